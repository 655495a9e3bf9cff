/**
 * Messages an agent sends on its own ({@code send_message}), to a chat or to another agent, and the
 * host-internal channel that carries messages between agents (docs/agents.md#messages).
 */
package dev.cordon.core.message;
