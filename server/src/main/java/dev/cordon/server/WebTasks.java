package dev.cordon.server;

import dev.cordon.core.Domain.Agent;
import dev.cordon.core.audit.AuditEvent.Actor;
import dev.cordon.core.store.Store;
import dev.cordon.core.task.Task;
import dev.cordon.core.task.TaskId;
import dev.cordon.core.task.TaskScheduler;
import io.javalin.http.Context;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An agent's scheduled tasks on the dashboard (docs/tasks.md, docs/dashboard.md): the list, and
 * pause and resume, for the agent's admins. Changes go through {@link TaskScheduler}, which stores,
 * audits ({@code task.pause}, {@code task.resume}, actor the web user) and re-arms its timer.
 * Thread-safe.
 */
final class WebTasks {
    private final WebRoles roles;
    private final Store store;
    private final TaskScheduler scheduler;
    private final TaskControl rows;

    WebTasks(WebRoles roles, Store store, TaskScheduler scheduler) {
        this.roles = roles;
        this.store = store;
        this.scheduler = scheduler;
        this.rows = new TaskControl(store, scheduler);
    }

    List<WebApi.Route> routes() {
        return List.of(
                new WebApi.Route("GET", WebApi.PREFIX + "/agents/{agent}/tasks", this::list),
                new WebApi.Route("POST", WebApi.PREFIX + "/tasks/{task}/pause", (ctx, c) -> change(ctx, c, true)),
                new WebApi.Route("POST", WebApi.PREFIX + "/tasks/{task}/resume", (ctx, c) -> change(ctx, c, false)));
    }

    private void list(Context ctx, WebAuth.Caller caller) {
        Agent agent = roles.administered(ctx, caller.user());
        WebApi.json(
                ctx,
                200,
                Map.of(
                        "agent",
                        agent.name().value(),
                        "tasks",
                        store.tasks().tasks(agent.id()).stream().map(rows::row).toList()));
    }

    private void change(Context ctx, WebAuth.Caller caller, boolean pause) {
        TaskId id = new TaskId(WebRoles.number(ctx, "task"));
        Task task = store.tasks().task(id).orElseThrow(() -> new WebException(404, "there is no task " + id.value()));
        Agent agent = store.agent(task.agent()).orElseThrow();
        roles.requireAdmin(caller.user(), agent.name());
        Actor by = Actor.user(caller.user().toString());
        Optional<Task> changed = pause ? scheduler.pause(id, by) : scheduler.resume(id, by);
        if (changed.isEmpty()) {
            throw new WebException(
                    409,
                    "task " + id.value() + " is " + TaskControl.describeState(task) + ": only "
                            + (pause ? "an active task can be paused" : "a paused task can be resumed"));
        }
        WebApi.json(
                ctx,
                200,
                Map.of(
                        "task",
                        rows.row(changed.get()),
                        "message",
                        (pause ? "Paused" : "Resumed") + " task " + id.value() + "."));
    }
}
