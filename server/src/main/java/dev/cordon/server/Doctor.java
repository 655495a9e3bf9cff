package dev.cordon.server;

import dev.cordon.sandbox.doctor.HostDoctor;
import java.io.PrintStream;
import java.util.List;

/** {@code cordon doctor}: what this host supports for sandboxing, and how to fix what is missing. */
final class Doctor {
    private Doctor() {}

    /** Prints the report; returns 0 when nothing required is missing, else 1. */
    static int print(PrintStream out) {
        List<HostDoctor.Check> checks = HostDoctor.run();
        out.print(HostDoctor.render(checks));
        return checks.stream().anyMatch(c -> c.status() == HostDoctor.Status.MISSING) ? 1 : 0;
    }
}
