/**
 * Who may talk to an agent and who may change things: users ({@link dev.cordon.core.access.UserId}),
 * roles ({@link dev.cordon.core.access.Role}), per-chat sender policy ({@link
 * dev.cordon.core.access.SenderPolicy}), held senders and pairing codes. The service is {@link
 * dev.cordon.core.access.Access}; the router asks it about every inbound message before anything
 * reaches a session. Behaviour and commands: {@code docs/access.md}.
 */
package dev.cordon.core.access;
