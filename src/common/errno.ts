/** The `code` of a Node system error (ENOENT, EEXIST…). Not `instanceof Error`: that fails across realms (jest's VM). */
export function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}
