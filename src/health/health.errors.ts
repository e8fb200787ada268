/** Readiness failed; `report` is terminus' health-check result (indicator statuses, no secrets). */
export class NotReadyError extends Error {
  constructor(readonly report: unknown) {
    super('Service is not ready');
    this.name = 'NotReadyError';
  }
}
