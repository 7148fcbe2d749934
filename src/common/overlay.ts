// A dataset's corrections, kept apart from its IDX files: training images relabelled or excluded
// by their 0-based position in the training IDX file. The data lab writes one per dataset
// (overlays/<fingerprint>.json in the app's data folder); `train --overlay FILE` and the app's New
// run train with it. Its one schema lives here (the renderer builds overlays too); reading,
// hashing and applying are in src/node/data-lab/overlay.ts.

import type { LabelIssue } from '../engine/data-lab/confident';
import { arr, int, literal, num, obj, str, type Schema } from './schema';

export const OVERLAY_FORMAT = 'lenet-studio-overlay';
export const OVERLAY_VERSION = 1;
/** At most this many entries of each kind (more than any dataset the app loads has images to correct). */
export const MAX_OVERLAY_ENTRIES = 1_000_000;
/** Files above this size are refused before they are parsed. */
export const MAX_OVERLAY_BYTES = 64 * 1024 * 1024;

export interface Relabel {
  /** 0-based position in the training IDX file. */
  index: number;
  label: number;
}

export interface LabelOverlay {
  format: typeof OVERLAY_FORMAT;
  version: typeof OVERLAY_VERSION;
  /** The fingerprint of the dataset the indices refer to (MnistData.fingerprint). */
  fingerprint: string;
  relabel: Relabel[];
  /** Positions of training images left out of training. */
  exclude: number[];
}

/** What a run records about the overlay it trained with (run.json's dataset.overlay). */
export interface OverlayInfo {
  /** First 16 hex digits of a sha256 over the overlay's canonical form. */
  hash: string;
  /** The dataset's own fingerprint; the run's dataset fingerprint joins it with `hash`. */
  baseFingerprint: string;
  relabelled: number;
  excluded: number;
}

const index = int(0, 100_000_000);

export const overlaySchema: Schema<LabelOverlay> = obj<LabelOverlay>({
  format: literal(OVERLAY_FORMAT),
  version: literal(OVERLAY_VERSION),
  fingerprint: str({ max: 128, min: 1 }),
  relabel: arr(obj<Relabel>({ index, label: int(0, 255) }), { max: MAX_OVERLAY_ENTRIES }),
  exclude: arr(index, { max: MAX_OVERLAY_ENTRIES }),
});

export const overlayInfoSchema: Schema<OverlayInfo> = obj<OverlayInfo>({
  hash: str({ max: 64 }),
  baseFingerprint: str({ max: 128 }),
  relabelled: int(0, 100_000_000),
  excluded: int(0, 100_000_000),
});

export function emptyOverlay(fingerprint: string): LabelOverlay {
  return { format: OVERLAY_FORMAT, version: OVERLAY_VERSION, fingerprint, relabel: [], exclude: [] };
}

/** One line of the label-issue ranking as it crosses a process boundary. */
export const labelIssueSchema: Schema<LabelIssue> = obj<LabelIssue>({
  index: int(0, 100_000_000),
  label: int(0, 255),
  suggested: int(0, 255),
  score: num({ min: 0, max: 1 }),
});
