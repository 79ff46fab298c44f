/**
 * The PostgreSQL advisory locks of the server, each with its own key, written in one place so that no two uses ever
 * share one by accident.
 */
export enum AdvisoryLock {
  /** Held by a transaction writing to a cursor log (alerts, compliance events): ids follow commit order. */
  LOG_ORDER = 4_711_001,
  /** Held by a compliance scan: one instance scans at a time, the others skip their turn. */
  COMPLIANCE_SCAN = 4_711_002,
  /** Held while the database is migrated at start-up: one instance migrates, the others wait, then start. */
  MIGRATIONS = 4_711_003,
  /** Held while the first platform-admin token is created: one instance creates it, once. */
  BOOTSTRAP = 4_711_004,
  /** Held while audit events are sealed into the chain or its head anchored: one chain, however many instances. */
  AUDIT_CHAIN = 4_711_005,
}
