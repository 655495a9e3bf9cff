/**
 * The tamper-evident audit log: events ({@link dev.cordon.core.audit.AuditEvent}), the log port
 * ({@link dev.cordon.core.audit.AuditLog}, opened by {@link dev.cordon.core.audit.AuditLogs}), the
 * storage SPI stores implement ({@link dev.cordon.core.audit.AuditStorage}), the hash chain, the
 * Ed25519 checkpoints and their verification. Format and guarantees: {@code docs/audit.md}.
 */
package dev.cordon.core.audit;
