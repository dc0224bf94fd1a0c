package dev.mover.bench.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mover.encoder.text.Span;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Readers of the summarization layouts, recognised by the keys of each JSONL file's first record:
 * <ul>
 *   <li>sentence-labelled documents ({@code "text": [{"sentence", "label"}]}, {@code "summary"}; CAIL2020): the
 *       document is the sentences concatenated, salient units are the sentences labelled 1;</li>
 *   <li>meeting transcripts ({@code "meeting_id"}, {@code "turns": [{"speaker", "content"}]}) with a query file
 *       ({@code "meeting_id"}, {@code "query"}, {@code "answer"}, {@code "relevant_text_span"}; QMSum): the
 *       document is one {@code speaker: content} line per turn, salient units are the turns of the relevant spans
 *       (inclusive turn indices);</li>
 *   <li>topic segments ({@code "paragraphs": [{"speaker", "sentences", "highlight_spans"}]}, {@code "discussion"};
 *       VCSum): the document is each paragraph's sentences concatenated, one paragraph per line, salient units are
 *       the highlighted character ranges; and meetings ({@code "segment_ids"}, {@code "summary"},
 *       {@code "segments_cover_transcript"}) made of those segments when they cover the transcript.</li>
 * </ul>
 * Dataset names are {@code <directory>/<file name without extension>}.
 */
final class SummData {

    /**
     * One summarization item.
     *
     * @param id      item id
     * @param doc     document text
     * @param query   query text or null
     * @param ref     reference summary
     * @param salient salient character ranges of {@code doc}, or null when the set has no labels for this item
     */
    record Item(String id, String doc, String query, String ref, List<Span> salient) {}

    /** A dataset of items. */
    record DataSet(String name, Lang lang, List<Item> items) {}

    private static final ObjectMapper OM = new ObjectMapper();

    private SummData() {}

    /** All sets found in {@code dir}, in file-name order, each limited to {@code limit} items (0 = all). */
    static List<DataSet> read(Path dir, int limit) throws IOException {
        Map<String, Path> byKind = new LinkedHashMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(Files::isRegularFile).filter(p -> p.getFileName().toString().endsWith(".jsonl")).sorted().toList();
        }
        List<DataSet> out = new ArrayList<>();
        for (Path f : files) {
            JsonNode first = firstRecord(f);
            if (first == null) {
                continue;
            }
            String kind = kind(first);
            if (kind != null) {
                byKind.put(kind, f);
            }
        }
        String dirName = dir.toAbsolutePath().normalize().getFileName().toString();
        if (byKind.containsKey("labelled")) {
            Path f = byKind.get("labelled");
            out.add(labelled(dirName + "/" + EvalCli.datasetName(f), f, limit));
        }
        if (byKind.containsKey("queries") && byKind.containsKey("transcripts")) {
            Path f = byKind.get("queries");
            out.add(queries(dirName + "/" + EvalCli.datasetName(f), f, byKind.get("transcripts"), limit));
        }
        if (byKind.containsKey("segments")) {
            Path seg = byKind.get("segments");
            out.add(segments(dirName + "/" + EvalCli.datasetName(seg), seg, limit));
            if (byKind.containsKey("meetings")) {
                Path m = byKind.get("meetings");
                out.add(segmentMeetings(dirName + "/" + EvalCli.datasetName(m), m, seg, limit));
            }
        }
        return out;
    }

    private static String kind(JsonNode n) {
        if (n.has("text") && n.get("text").isArray() && n.has("summary")) {
            return "labelled";
        }
        if (n.has("turns") && n.get("turns").isArray() && n.has("meeting_id")) {
            return "transcripts";
        }
        if (n.has("query") && n.has("answer") && n.has("meeting_id")) {
            return "queries";
        }
        if (n.has("paragraphs") && n.get("paragraphs").isArray() && n.has("discussion")) {
            return "segments";
        }
        if (n.has("segment_ids") && n.has("summary")) {
            return "meetings";
        }
        return null;
    }

    private static JsonNode firstRecord(Path f) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.isBlank()) {
                    try {
                        JsonNode n = OM.readTree(line);
                        return n.isObject() ? n : null;
                    } catch (IOException e) {
                        return null;
                    }
                }
            }
        }
        return null;
    }

    private static List<JsonNode> records(Path f) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            String line;
            int no = 0;
            while ((line = r.readLine()) != null) {
                no++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    out.add(OM.readTree(line));
                } catch (IOException e) {
                    throw new IOException("[summarize] " + f + " line [" + no + "] is not JSON: " + e.getMessage(), e);
                }
            }
        }
        return out;
    }

    private static DataSet labelled(String name, Path f, int limit) throws IOException {
        List<Item> items = new ArrayList<>();
        for (JsonNode n : records(f)) {
            if (limit > 0 && items.size() >= limit) {
                break;
            }
            StringBuilder doc = new StringBuilder();
            List<Span> salient = new ArrayList<>();
            for (JsonNode s : n.get("text")) {
                String sent = s.path("sentence").asText("");
                int start = doc.length();
                doc.append(sent);
                if (s.path("label").asInt(0) == 1 && !sent.isEmpty()) {
                    salient.add(new Span(start, doc.length()));
                }
            }
            items.add(new Item(n.path("id").asText(String.valueOf(items.size())), doc.toString(), null,
                n.path("summary").asText(""), salient));
        }
        return new DataSet(name, detect(items), items);
    }

    private static DataSet queries(String name, Path queries, Path transcripts, int limit) throws IOException {
        Map<String, JsonNode> meetings = new HashMap<>();
        for (JsonNode m : records(transcripts)) {
            meetings.put(m.get("meeting_id").asText(), m);
        }
        Map<String, Object[]> built = new HashMap<>(); // meeting id -> {doc, turn spans}
        List<Item> items = new ArrayList<>();
        for (JsonNode q : records(queries)) {
            if (limit > 0 && items.size() >= limit) {
                break;
            }
            String mid = q.get("meeting_id").asText();
            JsonNode m = meetings.get(mid);
            if (m == null) {
                throw new IOException("[summarize] query [" + q.path("id").asText() + "] names meeting [" + mid + "] missing from " + transcripts);
            }
            Object[] b = built.computeIfAbsent(mid, k -> transcript(m));
            String doc = (String) b[0];
            @SuppressWarnings("unchecked")
            List<Span> turns = (List<Span>) b[1];
            List<Span> salient = null;
            JsonNode spans = q.get("relevant_text_span");
            if (spans != null && spans.isArray() && spans.size() > 0) {
                salient = new ArrayList<>();
                for (JsonNode sp : spans) {
                    int from = Integer.parseInt(sp.get(0).asText().trim());
                    int to = Integer.parseInt(sp.get(1).asText().trim());
                    for (int t = Math.max(0, from); t <= Math.min(to, turns.size() - 1); t++) {
                        salient.add(turns.get(t));
                    }
                }
            }
            items.add(new Item(q.path("id").asText(), doc, q.path("query").asText(null), q.path("answer").asText(""), salient));
        }
        return new DataSet(name, detect(items), items);
    }

    private static Object[] transcript(JsonNode m) {
        StringBuilder doc = new StringBuilder();
        List<Span> turns = new ArrayList<>();
        for (JsonNode t : m.get("turns")) {
            int start = doc.length();
            String speaker = t.path("speaker").asText("");
            if (!speaker.isEmpty()) {
                doc.append(speaker).append(": ");
            }
            doc.append(t.path("content").asText(""));
            turns.add(new Span(start, doc.length()));
            doc.append('\n');
        }
        return new Object[] {doc.toString(), turns};
    }

    private static DataSet segments(String name, Path f, int limit) throws IOException {
        List<Item> items = new ArrayList<>();
        for (JsonNode n : records(f)) {
            if (limit > 0 && items.size() >= limit) {
                break;
            }
            items.add(segment(n));
        }
        return new DataSet(name, detect(items), items);
    }

    private static Item segment(JsonNode n) {
        StringBuilder doc = new StringBuilder();
        List<Span> salient = new ArrayList<>();
        for (JsonNode p : n.get("paragraphs")) {
            if (doc.length() > 0) {
                doc.append('\n');
            }
            JsonNode sents = p.path("sentences");
            JsonNode hl = p.path("highlight_spans");
            for (int k = 0; k < sents.size(); k++) {
                int base = doc.length();
                String s = sents.get(k).asText("");
                doc.append(s);
                JsonNode ranges = hl.path(k);
                for (JsonNode r : ranges) {
                    int a = Math.max(0, Math.min(s.length(), r.get(0).asInt()));
                    int b = Math.max(a, Math.min(s.length(), r.get(1).asInt()));
                    if (b > a) {
                        salient.add(new Span(base + a, base + b));
                    }
                }
            }
        }
        return new Item(n.path("id").asText(), doc.toString(), null, n.path("discussion").asText(""), salient);
    }

    private static DataSet segmentMeetings(String name, Path meetings, Path segFile, int limit) throws IOException {
        Map<String, Item> segs = new HashMap<>();
        for (JsonNode n : records(segFile)) {
            Item it = segment(n);
            segs.put(it.id(), it);
        }
        List<Item> items = new ArrayList<>();
        for (JsonNode m : records(meetings)) {
            if (limit > 0 && items.size() >= limit) {
                break;
            }
            if (!m.path("segments_cover_transcript").asBoolean(true)) {
                continue;
            }
            StringBuilder doc = new StringBuilder();
            List<Span> salient = new ArrayList<>();
            boolean complete = true;
            for (JsonNode sid : m.get("segment_ids")) {
                Item s = segs.get(sid.asText());
                if (s == null) {
                    complete = false;
                    break;
                }
                if (doc.length() > 0) {
                    doc.append('\n');
                }
                int base = doc.length();
                doc.append(s.doc());
                for (Span sp : s.salient()) {
                    salient.add(new Span(base + sp.start(), base + sp.end()));
                }
            }
            if (complete) {
                items.add(new Item(m.path("meeting_id").asText(), doc.toString(), null, m.path("summary").asText(""), salient));
            }
        }
        return new DataSet(name, detect(items), items);
    }

    private static Lang detect(List<Item> items) {
        List<String> sample = new ArrayList<>();
        for (Item it : items.subList(0, Math.min(20, items.size()))) {
            sample.add(it.doc().substring(0, Math.min(2000, it.doc().length())));
        }
        return Lang.detect(sample);
    }
}
