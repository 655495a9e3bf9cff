package dev.cordon.server.demo;

/** How one attack ended. Only {@link Stopped} and {@link Skipped} count as "nothing escaped". */
sealed interface Verdict {
    /** The word printed in the verdict column. */
    String label();

    /** What stopped it, what it got, or why it is unclear. */
    String reason();

    /** A defence held; {@code reason} names it (the syscall denied, the path invisible, the limit hit). */
    record Stopped(String reason) implements Verdict {
        @Override
        public String label() {
            return "STOPPED";
        }
    }

    /** The attack did what it tried; {@code reason} is the evidence. A real finding. */
    record Escaped(String reason) implements Verdict {
        @Override
        public String label() {
            return "ESCAPED";
        }
    }

    /**
     * Neither a known denial nor a sign of success (an unexpected error text, a missing result).
     * Counted as not stopped: the demo only claims what it can show.
     */
    record Unclear(String reason) implements Verdict {
        @Override
        public String label() {
            return "UNCLEAR";
        }
    }

    /** Could not be tried in this sandbox (a program missing from the host's {@code /usr}). */
    record Skipped(String reason) implements Verdict {
        @Override
        public String label() {
            return "SKIPPED";
        }
    }
}
