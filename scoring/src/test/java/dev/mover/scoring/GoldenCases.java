package dev.mover.scoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** Loads ../shared/golden/ot_cases.json (or -Dmover.golden=FILE); missing file is a test failure, not a skip. */
final class GoldenCases {
    private GoldenCases() {}

    static Path path() {
        String prop = System.getProperty("mover.golden");
        Path p = prop != null ? Paths.get(prop) : Paths.get("../../shared/golden/ot_cases.json");
        if (!Files.isRegularFile(p)) {
            throw new AssertionError("golden file not found at [" + p.toAbsolutePath()
                + "]; run from the scoring module directory or pass -Dmover.golden=FILE");
        }
        return p;
    }

    static List<JsonNode> load() throws IOException {
        JsonNode root = new ObjectMapper().readTree(path().toFile());
        if (!"mover-ot-golden/1".equals(root.path("format").asText())) {
            throw new AssertionError("unexpected golden format [" + root.path("format").asText() + "]");
        }
        List<JsonNode> out = new ArrayList<>();
        root.get("cases").forEach(out::add);
        return out;
    }

    static TokenMatrix matrix(JsonNode rows, int count, int d) {
        double[] data = new double[count * d];
        for (int r = 0; r < count; r++) {
            JsonNode row = rows.get(r);
            for (int c = 0; c < d; c++) {
                data[r * d + c] = Double.parseDouble(row.get(c).asText());
            }
        }
        return TokenMatrix.ofDoubles(data, count, d);
    }

    static double[] doubles(JsonNode arr) {
        if (arr == null || arr.isNull()) {
            return null;
        }
        double[] out = new double[arr.size()];
        for (int k = 0; k < out.length; k++) {
            out[k] = Double.parseDouble(arr.get(k).asText());
        }
        return out;
    }

    static Metric metric(JsonNode c) {
        return "wrd".equals(c.get("metric").asText()) ? Metric.WRD : Metric.WMD;
    }

    static MassRule rule(JsonNode c) {
        switch (c.get("weights").get("rule").asText()) {
            case "uniform":
                return MassRule.UNIFORM;
            case "norm":
                return MassRule.NORM;
            case "explicit":
                return MassRule.EXPLICIT;
            default:
                throw new AssertionError("unknown weights rule in " + c.get("id"));
        }
    }
}
