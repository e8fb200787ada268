import { Logger } from '@nestjs/common';
import { DomainError, ErrorKind } from '../common/domain-error.js';

/** Whether a driver error is a unique-constraint violation (PostgreSQL 23505, SQLite CONSTRAINT_UNIQUE). */
export function isUniqueViolation(error: unknown): boolean {
  return driverCode(error) === '23505' || driverCode(error) === 'SQLITE_CONSTRAINT_UNIQUE' || driverCode(error) === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export enum DatabaseErrorCode {
  /** The database cannot be reached or refuses connections now: try again later. */
  UNAVAILABLE = 'DATABASE_UNAVAILABLE',
}

/** The database is out of reach. Its message is fixed: the driver's text stays in the log. */
export class DatabaseError extends DomainError {
  readonly kind = ErrorKind.UNAVAILABLE;
  readonly details = undefined;
  override name = 'DatabaseError';

  constructor(readonly code: DatabaseErrorCode = DatabaseErrorCode.UNAVAILABLE) {
    super('The database is unavailable; try again later');
  }
}

/** Socket errors connecting to (or talking with) PostgreSQL, and SQLite's cannot-open/IO errors. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'SQLITE_CANTOPEN', 'SQLITE_IOERR']);
/** SQLSTATE: connection exceptions (class 08), shutdown/crash/starting up (57P01-57P03), too many connections. */
const UNAVAILABLE_STATES = /^(?:08[0-9A-Z]{3}|57P0[123]|53300)$/;
/**
 * node-postgres reports a lost or timed-out connection with a plain Error and no code; these are its
 * fixed texts (pg/lib/client.js, pg-pool), the only way to tell them from a bug.
 */
const PG_CONNECTION_LOST = /^(?:Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/** Whether an error means the database is out of reach (rather than a bad query or a bug). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = driverCode(error);
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || UNAVAILABLE_STATES.test(code))) return true;
  const driverError = driverErrorOf(error);
  return driverError instanceof Error && driverError.constructor === Error && PG_CONNECTION_LOST.test(driverError.message);
}

function driverErrorOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'driverError' in error ? error.driverError : error;
}

function driverCode(error: unknown): unknown {
  const driverError = driverErrorOf(error);
  return typeof driverError === 'object' && driverError !== null && 'code' in driverError ? driverError.code : null;
}

const logger = new Logger('Database');

/** The ERROR_TRANSLATOR of the database: an outage becomes DatabaseError (503), the driver's reason goes to the log. */
export function translateDatabaseError(error: unknown): DatabaseError | null {
  if (!isDatabaseUnavailable(error)) return null;
  logger.warn(`Database unavailable: ${error instanceof Error ? error.message : String(error)}`);
  return new DatabaseError();
}
