/** SSH_SPARE_CHANNELS values the pool specs run under: the same behaviour is expected with and without spares. */
export const SPARE_MODES = ['true', 'false'] as const;
export type SpareMode = (typeof SPARE_MODES)[number];
