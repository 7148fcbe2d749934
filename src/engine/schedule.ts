// Learning-rate schedules, evaluated per epoch (epoch counts from 0).

import { SpecError } from './errors';

export type Schedule = { type: 'constant' } | { type: 'step'; every: number; gamma: number } | { type: 'cosine'; minFactor?: number };

export function learningRate(base: number, schedule: Schedule, epoch: number, epochs: number): number {
  switch (schedule.type) {
    case 'constant':
      return base;
    case 'step':
      return base * Math.pow(schedule.gamma, Math.floor(epoch / schedule.every));
    case 'cosine': {
      const min = base * (schedule.minFactor ?? 0.01);
      const t = epochs > 1 ? epoch / (epochs - 1) : 0;
      return min + 0.5 * (base - min) * (1 + Math.cos(Math.PI * t));
    }
  }
}

/** Parses the CLI form: `constant`, `cosine`, `step:EVERY:GAMMA`. */
export function parseSchedule(text: string): Schedule {
  if (text === 'constant') return { type: 'constant' };
  if (text === 'cosine') return { type: 'cosine' };
  const m = /^step:(\d+):(\d*\.?\d+)$/.exec(text);
  if (m && Number(m[1]) >= 1 && Number(m[2]) > 0) return { type: 'step', every: Number(m[1]), gamma: Number(m[2]) };
  throw new SpecError('CONFIG_INVALID', `schedule must be constant, cosine or step:EVERY:GAMMA (e.g. step:5:0.5), got "${text}"`);
}

export function formatSchedule(s: Schedule): string {
  return s.type === 'step' ? `step:${s.every}:${s.gamma}` : s.type;
}
