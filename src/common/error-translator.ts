import type { DomainError } from './domain-error.js';

/**
 * Turns an infrastructure error (a database driver's, say) into the DomainError it stands for, or
 * null. The module that owns that infrastructure provides it under ERROR_TRANSLATOR; the error
 * filter asks it first, so src/common never needs to know that module.
 */
export type ErrorTranslator = (error: unknown) => DomainError | null;

export const ERROR_TRANSLATOR = Symbol('ERROR_TRANSLATOR');
