/**
 * Durable human approvals: {@link dev.cordon.core.approval.ApprovalService} asks, waits, times out
 * and keeps grants; {@link dev.cordon.core.approval.Approvers} says who may answer. See
 * docs/approvals.md.
 */
package dev.cordon.core.approval;
