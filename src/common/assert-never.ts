/** Compile-time exhaustiveness for switches over enums; reaching it at run time is a bug. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${String(value)}`);
}
