/**
 * A hard disk quota for agents' workspaces: {@link dev.cordon.sandbox.disk.WorkspaceQuota} makes the
 * workspace directory the mount point of an ext4 filesystem in a sparse image file of the quota's
 * size ({@code mount -t ext4 -o loop,nodev,nosuid}), before the sandbox binds it at /workspace. No
 * cgroup bounds disk space; this does, with ENOSPC inside the sandbox. See docs/resource-limits.md.
 *
 * <p>Gotchas, each with what to do:
 *
 * <ul>
 *   <li><b>Images are sparse, so the host's disk can still be overcommitted.</b> Ten agents with a
 *       10 GiB quota each on a host with 50 GiB free can together write more than the host has, and
 *       then every writer on the host gets ENOSPC. The quota bounds each agent, not their sum: keep
 *       the sum of quotas below the free space of the filesystem holding the images, or accept that
 *       risk knowingly. A new image uses under 1 MiB; it grows as the agent writes and does not shrink
 *       when the agent deletes (ext4 in a loop file does not punch holes by default).
 *   <li><b>Loop devices are a host-wide resource.</b> Each mounted workspace holds one ({@code
 *       /dev/loopN}) for as long as the host or any sandbox has it mounted; other software on the host
 *       (snap, container runtimes) uses them too. The kernel creates them on demand through {@code
 *       /dev/loop-control} up to its limit ({@code max_loop}, or the minor numbers); a container gets
 *       only the device nodes it was given. {@code mount -o loop} sets autoclear, so the device is
 *       freed by the last unmount: always {@link dev.cordon.sandbox.disk.WorkspaceQuota#detach} on
 *       agent delete, and check {@code losetup -a} after tests.
 *   <li><b>A running sandbox keeps the filesystem mounted</b> in its own mount namespace after the
 *       host unmounts it (bwrap copied the mount). The loop device stays bound until the sandbox
 *       exits, and a resize waits for that ({@code RESIZE_DEFERRED}): never fsck or resize an image
 *       that a loop device still holds — this package checks {@code /sys/block/loop*}.
 *   <li><b>Resizing is offline.</b> Growing a mounted ext4 needs CAP_SYS_RESOURCE, which root in a
 *       container often lacks, and ext4 never shrinks online; a resize unmounts, runs {@code e2fsck
 *       -f -p} and {@code resize2fs}, and mounts again (tens of milliseconds for small images).
 *   <li><b>The directory under the mount is root's, mode 0700.</b> A sandbox started without the
 *       quota mounted gets a /workspace it cannot write: it fails closed instead of filling the host.
 *       It also means an agent whose quota is switched off after it had an image sees no files until
 *       the image is mounted again or its files are copied out of it.
 *   <li><b>The workspace shows {@code lost+found}</b>, owned by root: e2fsck puts recovered files
 *       there. The agent may delete it (it owns the directory); e2fsck makes it again when needed.
 *   <li><b>Everything runs as root on files the agent wrote.</b> The migration copies with {@code cp
 *       -a}, which copies symlinks as links and never follows them; the image itself is root's, mode
 *       0600, outside the workspace, because whoever can write the raw image can feed the kernel's
 *       ext4 driver a corrupt filesystem.
 * </ul>
 */
package dev.cordon.sandbox.disk;
