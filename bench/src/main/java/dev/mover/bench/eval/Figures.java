package dev.mover.bench.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Figures in the {@code mover-figures/1} format shared by every benchmark and eval command:
 * {@code {"format": "mover-figures/1", "command": "...", "git": "<commit>", "records": [...]}} with records
 * {@code {"task", "dataset", "system", "metric", "value"}} plus optional {@code "n"} and {@code "note"}.
 */
public final class Figures {

    /** The format tag. */
    public static final String FORMAT = "mover-figures/1";

    /**
     * One figure.
     *
     * @param task    subcommand ({@code sts}, {@code retrieval}, {@code knn}, {@code summarize})
     * @param dataset dataset name from the file name
     * @param system  system name ({@code pooled}, {@code wrd}, ..., {@code lead}, ...)
     * @param metric  metric name ({@code spearman}, {@code ndcg@10}, {@code rouge1}, ...)
     * @param value   the value
     * @param n       number of items measured, or null
     * @param note    free text, or null
     */
    public record Record(String task, String dataset, String system, String metric, double value, Integer n, String note) {}

    private final String command;
    private final List<Record> records = new ArrayList<>();

    /** @param command the command line that produced the figures */
    public Figures(String command) {
        this.command = command;
    }

    /** Adds a record. */
    public synchronized void add(String task, String dataset, String system, String metric, double value, Integer n, String note) {
        records.add(new Record(task, dataset, system, metric, value, n, note));
    }

    /** The records so far, in insertion order. */
    public synchronized List<Record> records() {
        return List.copyOf(records);
    }

    /** The command line. */
    public String command() {
        return command;
    }

    /** JSON document of the figures. */
    public String toJson(String git) {
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = om.createObjectNode();
        root.put("format", FORMAT);
        root.put("command", command);
        root.put("git", git);
        ArrayNode arr = root.putArray("records");
        for (Record r : records()) {
            ObjectNode o = arr.addObject();
            o.put("task", r.task());
            o.put("dataset", r.dataset());
            o.put("system", r.system());
            o.put("metric", r.metric());
            if (Double.isFinite(r.value())) {
                o.put("value", r.value());
            } else {
                o.putNull("value");
            }
            if (r.n() != null) {
                o.put("n", r.n());
            }
            if (r.note() != null) {
                o.put("note", r.note());
            }
        }
        try {
            return om.writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException("[figures] cannot serialize: " + e.getMessage(), e);
        }
    }

    /** Writes the JSON document to {@code file}. */
    public void writeJson(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, toJson(gitCommit()), StandardCharsets.UTF_8);
    }

    /**
     * Output of {@code git rev-parse HEAD} in the working directory; when git refuses (e.g. "dubious ownership" for
     * the unprivileged user {@code ./mover} runs as) the commit is read from {@code .git/HEAD} and its ref; else
     * {@code "unknown"}.
     */
    public static String gitCommit() {
        String viaGit = runGit();
        if (viaGit != null) {
            return viaGit;
        }
        String viaFiles = readGitDir(Path.of("").toAbsolutePath());
        return viaFiles != null ? viaFiles : "unknown";
    }

    private static String runGit() {
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            }
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0 || !out.matches("[0-9a-f]{40}")) {
                return null;
            }
            return out;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The commit HEAD points to, read from the files of the nearest {@code .git} directory above {@code dir}. */
    static String readGitDir(Path dir) {
        for (Path d = dir; d != null; d = d.getParent()) {
            Path git = d.resolve(".git");
            if (!Files.isDirectory(git)) {
                continue;
            }
            try {
                String head = Files.readString(git.resolve("HEAD"), StandardCharsets.UTF_8).trim();
                if (head.matches("[0-9a-f]{40}")) {
                    return head;
                }
                if (!head.startsWith("ref: ")) {
                    return null;
                }
                String ref = head.substring(5).trim();
                Path loose = git.resolve(ref);
                if (Files.isRegularFile(loose)) {
                    String c = Files.readString(loose, StandardCharsets.UTF_8).trim();
                    return c.matches("[0-9a-f]{40}") ? c : null;
                }
                Path packed = git.resolve("packed-refs");
                if (Files.isRegularFile(packed)) {
                    for (String line : Files.readAllLines(packed, StandardCharsets.UTF_8)) {
                        if (line.endsWith(" " + ref) && line.length() > 41 && line.substring(0, 40).matches("[0-9a-f]{40}")) {
                            return line.substring(0, 40);
                        }
                    }
                }
                return null;
            } catch (IOException e) {
                return null;
            }
        }
        return null;
    }

    /**
     * Plain-text tables, one per (task, dataset group): rows are systems, columns metrics; datasets of a task are
     * stacked with a dataset column. Values are printed with 2 decimals (4 below 1 in magnitude for metrics that
     * live in [0, 1]).
     */
    public String table(String task) {
        return table(task, null);
    }

    /** Like {@link #table(String)}, showing only the notes of {@code noteMetric} (all notes when null). */
    public String table(String task, String noteMetric) {
        List<Record> rs = records().stream().filter(r -> r.task().equals(task)).toList();
        Set<String> metrics = new LinkedHashSet<>();
        Map<String, Map<String, Record>> rows = new LinkedHashMap<>();
        for (Record r : rs) {
            metrics.add(r.metric());
            rows.computeIfAbsent(r.dataset() + "\u0000" + r.system(), k -> new LinkedHashMap<>()).put(r.metric(), r);
        }
        List<String[]> lines = new ArrayList<>();
        List<String> header = new ArrayList<>(List.of("dataset", "system", "n"));
        header.addAll(metrics);
        boolean anyNote = rs.stream().anyMatch(r -> r.note() != null && !r.note().isEmpty()
            && (noteMetric == null || noteMetric.equals(r.metric())));
        if (anyNote) {
            header.add("note");
        }
        lines.add(header.toArray(new String[0]));
        for (Map.Entry<String, Map<String, Record>> e : rows.entrySet()) {
            String[] key = e.getKey().split("\u0000", 2);
            List<String> cells = new ArrayList<>(List.of(key[0], key[1]));
            Integer n = e.getValue().values().stream().map(Record::n).filter(x -> x != null).findFirst().orElse(null);
            cells.add(n == null ? "" : String.valueOf(n));
            for (String m : metrics) {
                Record r = e.getValue().get(m);
                cells.add(r == null ? "" : format(r.value()));
            }
            if (anyNote) {
                cells.add(e.getValue().values().stream().filter(r -> noteMetric == null || noteMetric.equals(r.metric()))
                    .map(Record::note).filter(x -> x != null && !x.isEmpty())
                    .distinct().reduce((a, b) -> a + " | " + b).orElse(""));
            }
            lines.add(cells.toArray(new String[0]));
        }
        int cols = header.size();
        int[] w = new int[cols];
        for (String[] l : lines) {
            for (int c = 0; c < cols; c++) {
                w[c] = Math.max(w[c], l[c].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int li = 0; li < lines.size(); li++) {
            String[] l = lines.get(li);
            for (int c = 0; c < cols; c++) {
                String cell = l[c];
                boolean left = c < 2 || (anyNote && c == cols - 1);
                sb.append(c + 1 == cols && left ? cell : pad(cell, w[c], !left));
                sb.append(c + 1 < cols ? "  " : "\n");
            }
            if (li == 0) {
                for (int c = 0; c < cols; c++) {
                    sb.append("-".repeat(w[c])).append(c + 1 < cols ? "  " : "\n");
                }
            }
        }
        return sb.toString();
    }

    /** Tasks present, in first-seen order. */
    public Set<String> tasks() {
        Set<String> t = new LinkedHashSet<>();
        for (Record r : records()) {
            t.add(r.task());
        }
        return t;
    }

    static String format(double v) {
        if (Double.isNaN(v)) {
            return "nan";
        }
        if (Math.abs(v) < 1 && v != 0) {
            return String.format(Locale.ROOT, "%.4f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static String pad(String s, int w, boolean right) {
        if (s.length() >= w) {
            return s;
        }
        String sp = " ".repeat(w - s.length());
        return right ? sp + s : s + sp;
    }
}
