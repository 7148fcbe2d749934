// The error the studio throws for requests it refuses: an untrusted path, a busy run, a broken
// model, too many calls at once…

/** Thrown for requests the studio refuses (an untrusted path, a run that is busy…). */
export class StudioError extends Error {
  override readonly name = 'StudioError';
  constructor(
    readonly code: 'PATH_NOT_ALLOWED' | 'RUN_BUSY' | 'RUN_STATE' | 'NO_DATASET' | 'UNKNOWN_PRESET' | 'BAD_MODEL' | 'TOO_LARGE' | 'BUSY' | 'BAD_SWEEP',
    message: string,
  ) {
    super(message);
  }
}
