package dev.mover.bench.ot;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ot-check on the real golden file, and on tampered copies it has never seen. */
class OtCheckTests {
    private static Path golden() {
        String prop = System.getProperty("mover.golden");
        Path p = prop != null ? Paths.get(prop) : Paths.get("../../shared/golden/ot_cases.json");
        assertTrue(Files.isRegularFile(p), "golden file not found at [" + p.toAbsolutePath() + "]");
        return p;
    }

    private static String[] run(String file, int[] rc) throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            rc[0] = OtCheck.run(new String[] {file});
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8).trim().split("\n");
    }

    @Test
    void testOtCheck_whenGoldenFile_thenAll54Pass() throws Exception {
        int[] rc = new int[1];
        String[] lines = run(golden().toString(), rc);
        assertEquals("54 passed, 0 failed", lines[lines.length - 1]);
        assertEquals("sinkhorn entries checked [196], skipped (plain_sweeps_to_1e-9 > 100000 or null) [12]", lines[lines.length - 2]);
        assertEquals(2, lines.length, "no FAIL lines expected");
        assertEquals(0, rc[0]);
    }

    @Test
    void testOtCheck_whenValuesTampered_thenFailingCasesReported(@TempDir File tmp) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = (ObjectNode) mapper.readTree(golden().toFile());
        ArrayNode cases = (ArrayNode) root.get("cases");
        ArrayNode kept = mapper.createArrayNode();
        for (int k = 0; k < 6; k++) {
            kept.add(cases.get(k));
        }
        // case 0: distance off by 1e-6 x cost_max (beyond 1e-9); case 1: wcd off; case 2: an undefined case claimed defined
        ObjectNode e0 = (ObjectNode) kept.get(0).get("expected");
        e0.put("distance", e0.get("distance").asDouble() + 1e-6 * e0.get("cost_max").asDouble());
        ObjectNode e1 = (ObjectNode) kept.get(1).get("expected");
        e1.put("wcd", e1.get("wcd").asDouble() + 0.01);
        // an undefined case (all-zero-norm WRD side) that wrongly claims a distance must fail: it is rejected
        for (int k = 0; k < cases.size(); k++) {
            if (cases.get(k).get("expected").get("distance").isNull()) {
                ObjectNode bad = cases.get(k).deepCopy();
                ((ObjectNode) bad.get("expected")).put("distance", 0.5);
                kept.add(bad);
                break;
            }
        }
        root.set("cases", kept);
        File f = new File(tmp, "tampered.json");
        mapper.writeValue(f, root);
        int[] rc = new int[1];
        String[] lines = run(f.getPath(), rc);
        assertEquals("4 passed, 3 failed", lines[lines.length - 1]);
        assertEquals(1, rc[0]);
        assertTrue(lines[0].startsWith("FAIL " + kept.get(0).get("id").asText() + ": distance expected"), lines[0]);
        assertTrue(lines[1].startsWith("FAIL " + kept.get(1).get("id").asText() + ": wcd expected"), lines[1]);
        assertTrue(lines[2].contains("rejected a defined case"), lines[2]);
    }

    @Test
    void testOtCheck_whenWrongFormat_thenExitCode2(@TempDir File tmp) throws Exception {
        File f = new File(tmp, "other.json");
        Files.writeString(f.toPath(), "{\"format\": \"something-else/1\", \"cases\": []}");
        int[] rc = new int[1];
        run(f.getPath(), rc);
        assertEquals(2, rc[0]);
    }
}
