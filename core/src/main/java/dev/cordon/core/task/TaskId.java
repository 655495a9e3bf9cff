package dev.cordon.core.task;

/** Row id of a scheduled task. Shown to people as {@code #id}. */
public record TaskId(long value) {
    @Override
    public String toString() {
        return "#" + value;
    }
}
