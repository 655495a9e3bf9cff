/**
 * Extra host folders in a sandbox: the operator's {@link dev.cordon.sandbox.mounts.MountAllowlist}
 * and the check that turns an agent's {@link dev.cordon.sandbox.mounts.MountRequest} into a {@link
 * dev.cordon.core.sandbox.SandboxSpec.Mount}, or refuses it with a {@link
 * dev.cordon.sandbox.mounts.MountException} that names the rule.
 *
 * <p>The allowlist comes from the daemon's configuration, which no agent can write; the requests
 * come from agents' policies. Paths are checked after every symlink is resolved, and the mount
 * carries the resolved path. See docs/mounts.md.
 */
package dev.cordon.sandbox.mounts;
