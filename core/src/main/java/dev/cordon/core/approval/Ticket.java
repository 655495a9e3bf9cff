package dev.cordon.core.approval;

import java.util.concurrent.CompletableFuture;

/**
 * A request's place in line.
 *
 * @param id the approval the request waits on (or the grant that decided it at once)
 * @param asked whether a person is being asked; false when an existing grant decided at once
 * @param outcome completes exactly once, with the decision; never completes exceptionally
 */
public record Ticket(ApprovalId id, boolean asked, CompletableFuture<Outcome> outcome) {}
