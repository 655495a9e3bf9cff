package dev.cordon.core.approval;

/** What became of an answer. Every case but {@link Decided} changed nothing. */
public sealed interface AnswerResult {

    /** The answer decided the approval; it is stored and audited, and the waiting requester was told. */
    record Decided(Approval approval) implements AnswerResult {}

    /** There is no approval with this id. */
    record Unknown(ApprovalId id) implements AnswerResult {}

    /** It was decided before, by someone else or by an earlier answer. */
    record AlreadyDecided(Approval approval) implements AnswerResult {}

    /** Nobody answered in time: it was denied as expired. */
    record Expired(Approval approval) implements AnswerResult {}

    /** The approver may not approve for this agent: the answer was ignored, and audited as such. */
    record Ignored(Approval approval, String why) implements AnswerResult {}
}
