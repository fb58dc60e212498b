// Alert levels in the admins' words (Dynamics 365 shows Error, Warning, Information) and their badge colours.
export const LEVEL = { ERROR: 'Error', WARNING: 'Warning', INFO: 'Information' } as const;
export type Level = keyof typeof LEVEL;

export function levelTone(level: Level): string {
  return level === 'ERROR' ? 'failure' : level === 'WARNING' ? 'pending' : 'success';
}

/** UTC to the second: "2026-11-22 03:08:41 UTC". */
export function alertTime(d: Date): string {
  return `${d.toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}
