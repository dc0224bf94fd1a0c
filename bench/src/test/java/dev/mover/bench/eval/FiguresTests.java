package dev.mover.bench.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FiguresTests {

    @Test
    void testJson_whenRecords_thenMoverFigures1LayoutWithOptionalFields() throws Exception {
        Figures f = new Figures("mover eval sts --data x");
        f.add("sts", "stsb-dev", "wrd", "spearman", 78.1, 1500, "model m");
        f.add("sts", "stsb-dev", "pooled", "spearman", 80.0, null, null);
        JsonNode root = new ObjectMapper().readTree(f.toJson("0123456789abcdef0123456789abcdef01234567"));
        assertEquals("mover-figures/1", root.get("format").asText());
        assertEquals("mover eval sts --data x", root.get("command").asText());
        assertEquals("0123456789abcdef0123456789abcdef01234567", root.get("git").asText());
        assertEquals(2, root.get("records").size());
        JsonNode r0 = root.get("records").get(0);
        assertEquals("sts", r0.get("task").asText());
        assertEquals("stsb-dev", r0.get("dataset").asText());
        assertEquals("wrd", r0.get("system").asText());
        assertEquals("spearman", r0.get("metric").asText());
        assertEquals(78.1, r0.get("value").asDouble(), 0);
        assertEquals(1500, r0.get("n").asInt());
        assertEquals("model m", r0.get("note").asText());
        JsonNode r1 = root.get("records").get(1);
        assertFalse(r1.has("n"));
        assertFalse(r1.has("note"));
    }

    @Test
    void testGitCommit_thenFortyHexOrUnknown() {
        String g = Figures.gitCommit();
        assertTrue(g.equals("unknown") || g.matches("[0-9a-f]{40}"), g);
    }

    @Test
    void testReadGitDir_whenLooseAndPackedRefs_thenCommitOfHead(@TempDir Path dir) throws Exception {
        Path git = dir.resolve(".git");
        Files.createDirectories(git.resolve("refs/heads"));
        Files.writeString(git.resolve("HEAD"), "ref: refs/heads/main\n");
        Files.writeString(git.resolve("packed-refs"), "# pack-refs with: peeled\n" + "a".repeat(40) + " refs/heads/main\n");
        Path sub = Files.createDirectories(dir.resolve("x/y"));
        assertEquals("a".repeat(40), Figures.readGitDir(sub));
        Files.writeString(git.resolve("refs/heads/main"), "b".repeat(40) + "\n");
        assertEquals("b".repeat(40), Figures.readGitDir(sub));
        Files.writeString(git.resolve("HEAD"), "c".repeat(40) + "\n");
        assertEquals("c".repeat(40), Figures.readGitDir(dir));
    }

    @Test
    void testTable_whenTwoMetrics_thenOneRowPerSystemAndColumnsPerMetric() {
        Figures f = new Figures("c");
        f.add("knn", "test-dev", "wmd", "error", 3.5, 730, null);
        f.add("knn", "test-dev", "wmd", "prune_speedup", 12.25, 5, null);
        f.add("knn", "test-dev", "pooled", "error", 4.0, 730, null);
        String t = f.table("knn");
        String[] lines = t.split("\n");
        assertEquals(4, lines.length, t);
        assertTrue(lines[0].matches("dataset\\s+system\\s+n\\s+error\\s+prune_speedup"), lines[0]);
        assertTrue(lines[2].matches("test-dev\\s+wmd\\s+730\\s+3\\.50\\s+12\\.25"), lines[2]);
        assertTrue(lines[3].matches("test-dev\\s+pooled\\s+730\\s+4\\.00\\s*"), lines[3]);
    }

    @Test
    void testWriteJson_thenFileWritten(@TempDir Path dir) throws Exception {
        Figures f = new Figures("c");
        f.add("summarize", "d", "lead", "rouge1", 0.25, 7, null);
        Path out = dir.resolve("sub/figures.json");
        f.writeJson(out);
        JsonNode root = new ObjectMapper().readTree(Files.readString(out));
        assertEquals(0.25, root.get("records").get(0).get("value").asDouble(), 0);
    }

    @Test
    void testParse_whenBadArguments_thenMessagesNameTheProblem(@TempDir Path dir) {
        assertEquals("[eval] unknown subcommand [foo]",
            assertThrows(IllegalArgumentException.class, () -> EvalCli.parse(new String[] {"foo"})).getMessage());
        assertEquals("[eval] --data DIR is required",
            assertThrows(IllegalArgumentException.class, () -> EvalCli.parse(new String[] {"sts"})).getMessage());
        assertEquals("[eval] --limit must be >= 0 but was [-1]",
            assertThrows(IllegalArgumentException.class, () -> EvalCli.parse(new String[] {"sts", "--data", dir.toString(), "--limit", "-1"})).getMessage());
        EvalCli.Options o = EvalCli.parse(new String[] {"knn", "--data", dir.toString(), "--limit", "5", "--only", "a,b"});
        assertEquals(5, o.limit());
        assertEquals(java.util.Set.of("a", "b"), o.only());
        assertEquals("stsb-dev", EvalCli.datasetName(Path.of("/x/stsb-dev.tsv")));
        assertEquals("test-dev", EvalCli.datasetName(Path.of("test-dev.jsonl")));
    }
}
