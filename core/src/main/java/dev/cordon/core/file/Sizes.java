package dev.cordon.core.file;

import java.util.Locale;

/** Sizes in words people and models read: {@code 20 MiB}, {@code 1.5 KiB}, {@code 12 bytes}. */
public final class Sizes {
    private Sizes() {}

    /** {@code bytes} in the largest binary unit that leaves at least 1. */
    public static String human(long bytes) {
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        if (bytes < 1024) {
            return bytes + (bytes == 1 ? " byte" : " bytes");
        }
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        String number =
                value == Math.rint(value) ? Long.toString((long) value) : String.format(Locale.ROOT, "%.1f", value);
        return number + " " + units[unit];
    }
}
