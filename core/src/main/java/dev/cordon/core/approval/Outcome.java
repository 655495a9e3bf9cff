package dev.cordon.core.approval;

/**
 * What a waiting requester learns.
 *
 * @param id the approval that decided: the request itself, or the earlier grant that matched it
 * @param reason in words fit for the model: who decided and how far the grant reaches, the
 *     approver's reason for a denial, or that nobody answered in time
 */
public record Outcome(ApprovalId id, boolean granted, String reason) {}
