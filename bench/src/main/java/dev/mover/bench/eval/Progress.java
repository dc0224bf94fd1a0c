package dev.mover.bench.eval;

import java.util.Locale;

/** A progress line on stderr, rewritten at most every two seconds; silent for work shorter than that. */
final class Progress {
    private final String label;
    private final long total;
    private final long startNanos = System.nanoTime();
    private long lastPrint = System.nanoTime();
    private boolean printed;

    Progress(String label, long total) {
        this.label = label;
        this.total = total;
    }

    /** Reports {@code done} of {@code total} units. */
    synchronized void update(long done) {
        long now = System.nanoTime();
        if (now - lastPrint < 2_000_000_000L) {
            return;
        }
        lastPrint = now;
        printed = true;
        double secs = (now - startNanos) / 1e9;
        double rate = done / Math.max(secs, 1e-9);
        String eta = done > 0 && total > 0 ? String.format(Locale.ROOT, ", eta %.0fs", (total - done) / Math.max(rate, 1e-9)) : "";
        System.err.printf(Locale.ROOT, "\r[%s] %d/%d (%.0fs%s)   ", label, done, total, secs, eta);
        System.err.flush();
    }

    /** Ends the line if anything was printed. */
    synchronized void done() {
        if (printed) {
            System.err.printf(Locale.ROOT, "\r[%s] %d/%d done in %.1fs%n", label, total, total, (System.nanoTime() - startNanos) / 1e9);
        }
    }
}
