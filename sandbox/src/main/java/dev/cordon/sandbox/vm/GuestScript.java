package dev.cordon.sandbox.vm;

import dev.cordon.core.sandbox.Limits;
import java.util.ArrayList;
import java.util.List;

/**
 * The second stage of a microVM's boot, {@code start.sh}, run as root in the guest by the
 * initramfs's init ({@link Initramfs#INIT}). Written by the host for one sandbox; only trusted text
 * goes in (every word from the spec is single-quoted by {@link #quote}). It:
 *
 * <ol>
 *   <li>mounts the host's system directories and each of the spec's mounts from their 9p shares,
 *       read-only where the spec says so (QEMU enforces that too: {@code readonly=on});
 *   <li>mirrors the host's top-level links ({@code /bin -> usr/bin}) so host programs run;
 *   <li>makes a cgroup with the spec's memory, pids and CPU limits (cgroup v2 of the guest kernel);
 *   <li>bridges each Unix socket the spec mounted (the runner's channel) to its virtio-serial port
 *       with socat, listening for exactly one connection, owned by the sandbox's uid;
 *   <li>runs the spec's command under bubblewrap with Cordon's seccomp filter, in that cgroup;
 *   <li>reports the exit status and what the cgroup recorded on the status port, and powers off.
 * </ol>
 */
final class GuestScript {
    /** A 9p share: {@code tag} mounted at {@code path}. */
    record Share(String tag, String path, boolean readOnly) {}

    /** A host Unix socket bridged over virtio-serial port {@code port} to {@code socket} in the guest. */
    record Bridge(String port, String socket) {}

    /** A symbolic link in the guest's root. */
    record Link(String path, String target) {}

    static final String STATUS_PORT = "cordon.status";
    static final String CGROUP = "/sys/fs/cgroup/sandbox";

    private GuestScript() {}

    /**
     * @param bwrap the inner bubblewrap's whole command line, seccomp filter on fd 3
     * @param seccomp the filter's path in the guest
     */
    static String render(
            List<Share> shares,
            List<Link> links,
            List<Bridge> bridges,
            Limits limits,
            int uid,
            int gid,
            String socat,
            List<String> bwrap,
            String seccomp) {
        List<String> s = new ArrayList<>();
        s.add("B=/cordon/busybox");
        s.add("export PATH=/usr/sbin:/usr/bin:/sbin:/bin");
        s.add("fail() { echo \"cordon-vm: $*\"; $B poweroff -f; }");
        s.add("port() { for p in /sys/class/virtio-ports/*; do [ \"$($B cat $p/name)\" = \"$1\" ]"
                + " && { echo /dev/${p##*/}; return; }; done; fail \"no virtio port $1\"; }");
        for (Share share : shares) {
            String options = share.readOnly() ? "ro,cache=loose" : "rw,cache=mmap";
            s.add("$B mkdir -p " + quote(share.path()) + " && $B mount -t 9p -o trans=virtio,version=9p2000.L,"
                    + options + " " + quote(share.tag()) + " " + quote(share.path()) + " || fail "
                    + quote("cannot mount share " + share.tag()));
        }
        for (Link link : links) {
            s.add("$B ln -s " + quote(link.target()) + " " + quote(link.path()));
        }
        s.add("$B mkdir -p /tmp /run && $B mount -t tmpfs -o mode=0755,size=16m run /run");
        s.add("$B mount -t cgroup2 none /sys/fs/cgroup || fail 'cannot mount cgroup2'");
        s.add("echo '+memory +pids +cpu' > /sys/fs/cgroup/cgroup.subtree_control || fail 'no cgroup controllers'");
        s.add("$B mkdir " + CGROUP);
        if (limits.memoryBytes() > 0) {
            s.add("echo " + limits.memoryBytes() + " > " + CGROUP + "/memory.max");
            s.add("echo 0 > " + CGROUP + "/memory.swap.max 2>/dev/null");
        }
        if (limits.maxPids() > 0) {
            s.add("echo " + limits.maxPids() + " > " + CGROUP + "/pids.max");
        }
        if (limits.cpuMillicores() > 0) {
            s.add("echo '" + limits.cpuMillicores() * 100 + " 100000' > " + CGROUP + "/cpu.max");
        }
        for (Bridge bridge : bridges) {
            String socket = quote(bridge.socket());
            s.add("$B mkdir -p \"$($B dirname " + socket + ")\"");
            // One connection, then socat exits: nothing else in the guest can speak on the channel.
            s.add(quote(socat) + " UNIX-LISTEN:" + socket + ",mode=0600,user=" + uid + ",group=" + gid + " OPEN:$(port "
                    + quote(bridge.port()) + ") &");
            s.add("while [ ! -S " + socket + " ]; do $B usleep 10000; done");
        }
        StringBuilder run = new StringBuilder("( echo 0 > " + CGROUP + "/cgroup.procs && exec");
        for (String word : bwrap) {
            run.append(' ').append(quote(word));
        }
        run.append(" 3< ").append(quote(seccomp)).append(" < /dev/null )");
        s.add(run.toString());
        s.add("status=$?");
        s.add("ev() { $B sed -n \"s/^$2 //p\" " + CGROUP + "/$1 2>/dev/null; }");
        s.add("echo \"exit=$status oom_kill=$(ev memory.events oom_kill) pids_max=$(ev pids.events max)"
                + " memory_peak=$($B cat " + CGROUP + "/memory.peak 2>/dev/null)"
                + " cpu_usec=$(ev cpu.stat usage_usec)\" > $(port " + STATUS_PORT + ")");
        s.add("$B sync");
        s.add("$B poweroff -f");
        return String.join("\n", s) + "\n";
    }

    /** {@code word} in single quotes, inside which a POSIX shell interprets nothing. */
    static String quote(String word) {
        return "'" + word.replace("'", "'\\''") + "'";
    }
}
