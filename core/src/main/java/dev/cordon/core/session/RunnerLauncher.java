package dev.cordon.core.session;

import dev.cordon.core.Domain.Agent;
import dev.cordon.core.Domain.Session;

/** Starts a runner for a session in a fresh sandbox. */
@FunctionalInterface
public interface RunnerLauncher {
    /**
     * Blocks until the runner said Ready.
     *
     * @throws dev.cordon.core.sandbox.SandboxException if the sandbox or runner cannot start
     */
    RunnerLink launch(Agent agent, Session session);
}
