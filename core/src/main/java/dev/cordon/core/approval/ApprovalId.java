package dev.cordon.core.approval;

/** Row id of an approval request (and of the grant its answer made). Shown to approvers as {@code #id}. */
public record ApprovalId(long value) {
    @Override
    public String toString() {
        return "#" + value;
    }
}
