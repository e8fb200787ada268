/** Whether a driver error is a unique-constraint violation (PostgreSQL 23505, SQLite CONSTRAINT_UNIQUE). */
export function isUniqueViolation(error: unknown): boolean {
  const driverError = typeof error === 'object' && error !== null && 'driverError' in error ? error.driverError : error;
  const code = typeof driverError === 'object' && driverError !== null && 'code' in driverError ? driverError.code : null;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
