package dev.mover.encoder.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mover.encoder.tokenize.BertTokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@link SubwordTokenizer} behind {@link SubwordTokenizer#load(Path)}: HuggingFace {@code tokenizer.json} with a
 * WordPiece, BPE or Unigram model, following the Rust {@code tokenizers} library's algorithms (BPE: merges of the
 * lowest rank first, leftmost on ties; Unigram: Viterbi over the pieces' log-probabilities, unknown characters
 * scored {@code min_score - 10} and fused, as {@code tokenizers}' {@code Unigram::encode}).
 */
final class HfTokenizer implements SubwordTokenizer {

    private enum Kind { WORDPIECE, BPE, UNIGRAM }

    /** GPT-2's pre-tokenization pattern, used by the ByteLevel pre-tokenizer. */
    private static final Pattern GPT2 = Pattern.compile(
        "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");
    private static final Pattern WHITESPACE = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern WHITESPACE_SPLIT = Pattern.compile("\\S+");
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final Map<Character, Integer> CHAR_TO_BYTE = new HashMap<>();
    private static final double UNK_PENALTY = 10.0;

    static {
        // GPT-2 bytes_to_unicode: printable bytes map to themselves, the others to U+0100 upwards
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_TO_CHAR[b] = printable ? (char) b : (char) (256 + n++);
            CHAR_TO_BYTE.put(BYTE_TO_CHAR[b], b);
        }
    }

    private final String where;
    private final Kind kind;
    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    private final String[] addedTokens;
    private final int[] addedIds;
    private final Set<Integer> specialIds;
    private final List<JsonNode> normalizers;
    private final List<JsonNode> preTokenizers;
    private final List<JsonNode> decoders;
    private final int[] prefixIds;
    private final int[] suffixIds;
    // WordPiece
    private final BertTokenizer bert;
    // BPE
    private final Map<String, Integer> mergeRanks;
    private final String continuingPrefix;
    private final String endOfWordSuffix;
    private final boolean ignoreMerges;
    // BPE and Unigram
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean byteFallback;
    // Unigram
    private final double[] scores;
    private final double unkScore;
    private final int maxPieceChars;

    private HfTokenizer(Builder b) {
        this.where = b.where;
        this.kind = b.kind;
        this.vocab = b.vocab;
        int max = -1;
        for (int id : vocab.values()) {
            max = Math.max(max, id);
        }
        this.idToToken = new String[max + 1];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            if (idToToken[e.getValue()] == null) {
                idToToken[e.getValue()] = e.getKey();
            }
        }
        this.addedTokens = b.addedTokens;
        this.addedIds = b.addedIds;
        this.specialIds = b.specialIds;
        this.normalizers = b.normalizers;
        this.preTokenizers = b.preTokenizers;
        this.decoders = b.decoders;
        this.prefixIds = b.prefixIds;
        this.suffixIds = b.suffixIds;
        this.bert = b.bert;
        this.mergeRanks = b.mergeRanks;
        this.continuingPrefix = b.continuingPrefix;
        this.endOfWordSuffix = b.endOfWordSuffix;
        this.ignoreMerges = b.ignoreMerges;
        this.unkId = b.unkId;
        this.fuseUnk = b.fuseUnk;
        this.byteFallback = b.byteFallback;
        this.scores = b.scores;
        this.unkScore = b.unkScore;
        this.maxPieceChars = b.maxPieceChars;
    }

    private static final class Builder {
        String where;
        Kind kind;
        Map<String, Integer> vocab = new HashMap<>();
        String[] addedTokens = new String[0];
        int[] addedIds = new int[0];
        Set<Integer> specialIds = new HashSet<>();
        List<JsonNode> normalizers = new ArrayList<>();
        List<JsonNode> preTokenizers = new ArrayList<>();
        List<JsonNode> decoders = new ArrayList<>();
        int[] prefixIds = new int[0];
        int[] suffixIds = new int[0];
        BertTokenizer bert;
        Map<String, Integer> mergeRanks;
        String continuingPrefix;
        String endOfWordSuffix;
        boolean ignoreMerges;
        int unkId = -1;
        boolean fuseUnk;
        boolean byteFallback;
        double[] scores;
        double unkScore;
        int maxPieceChars;
    }

    static HfTokenizer load(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("[mover] cannot read tokenizer [" + file + "]: " + e.getMessage(), e);
        }
        Builder b = new Builder();
        b.where = "[mover] tokenizer [" + file + "]";
        if (root == null || !root.has("model")) {
            throw new IllegalArgumentException(b.where + " has no [model]");
        }
        JsonNode model = root.get("model");
        String type = model.path("type").asText("");
        if (type.isEmpty()) {
            type = model.has("merges") ? "BPE" : model.path("vocab").isArray() ? "Unigram" : "";
        }
        switch (type) {
            case "WordPiece" -> {
                b.kind = Kind.WORDPIECE;
                b.bert = BertTokenizer.load(file);
                for (Iterator<Map.Entry<String, JsonNode>> it = model.path("vocab").fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    b.vocab.put(e.getKey(), e.getValue().asInt());
                }
            }
            case "BPE" -> loadBpe(model, b);
            case "Unigram" -> loadUnigram(model, b);
            default -> throw new IllegalArgumentException(b.where + " model type must be one of [WordPiece, BPE, Unigram] but was ["
                + type + "]");
        }
        loadAdded(root.get("added_tokens"), b);
        if (b.kind != Kind.WORDPIECE) {
            flatten(root.get("normalizer"), b.normalizers, b.where, "normalizer",
                Set.of("NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Strip", "Replace", "Prepend", "Precompiled"));
            flatten(root.get("pre_tokenizer"), b.preTokenizers, b.where, "pre_tokenizer",
                Set.of("Metaspace", "ByteLevel", "Whitespace", "WhitespaceSplit"));
        }
        flatten(root.get("decoder"), b.decoders, b.where, "decoder",
            Set.of("Metaspace", "ByteLevel", "WordPiece", "ByteFallback", "Fuse", "Replace", "Strip"));
        if (b.decoders.isEmpty() && b.kind == Kind.WORDPIECE) {
            b.decoders.add(new ObjectMapper().createObjectNode().put("type", "WordPiece").put("prefix", "##").put("cleanup", true));
        }
        loadPostProcessor(root.get("post_processor"), b);
        return new HfTokenizer(b);
    }

    private static void loadBpe(JsonNode model, Builder b) {
        b.kind = Kind.BPE;
        if (model.hasNonNull("dropout") && model.get("dropout").asDouble() > 0) {
            throw new IllegalArgumentException(b.where + " BPE dropout must be off for generation but was [" + model.get("dropout") + "]");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = model.path("vocab").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            b.vocab.put(e.getKey(), e.getValue().asInt());
        }
        if (b.vocab.isEmpty()) {
            throw new IllegalArgumentException(b.where + " has no [model.vocab]");
        }
        b.mergeRanks = new HashMap<>();
        int rank = 0;
        for (JsonNode m : model.path("merges")) {
            String pair;
            if (m.isArray()) {
                pair = m.get(0).asText() + " " + m.get(1).asText();
            } else {
                pair = m.asText();
            }
            b.mergeRanks.putIfAbsent(pair, rank++);
        }
        b.continuingPrefix = model.hasNonNull("continuing_subword_prefix") ? model.get("continuing_subword_prefix").asText() : null;
        b.endOfWordSuffix = model.hasNonNull("end_of_word_suffix") ? model.get("end_of_word_suffix").asText() : null;
        b.ignoreMerges = model.path("ignore_merges").asBoolean(false);
        b.fuseUnk = model.path("fuse_unk").asBoolean(false);
        b.byteFallback = model.path("byte_fallback").asBoolean(false);
        if (model.hasNonNull("unk_token")) {
            Integer id = b.vocab.get(model.get("unk_token").asText());
            b.unkId = id == null ? -1 : id;
        }
    }

    private static void loadUnigram(JsonNode model, Builder b) {
        b.kind = Kind.UNIGRAM;
        JsonNode v = model.path("vocab");
        if (!v.isArray() || v.size() == 0) {
            throw new IllegalArgumentException(b.where + " has no [model.vocab]");
        }
        b.scores = new double[v.size()];
        double min = Double.POSITIVE_INFINITY;
        int maxLen = 1;
        for (int i = 0; i < v.size(); i++) {
            String piece = v.get(i).get(0).asText();
            b.vocab.putIfAbsent(piece, i);
            b.scores[i] = v.get(i).get(1).asDouble();
            min = Math.min(min, b.scores[i]);
            maxLen = Math.max(maxLen, piece.codePointCount(0, piece.length()));
        }
        b.unkScore = min - UNK_PENALTY;
        b.maxPieceChars = maxLen;
        b.unkId = model.hasNonNull("unk_id") ? model.get("unk_id").asInt() : -1;
        b.fuseUnk = true;
        b.byteFallback = model.path("byte_fallback").asBoolean(false);
    }

    private static void loadAdded(JsonNode added, Builder b) {
        List<String> tokens = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        if (added != null && added.isArray()) {
            for (JsonNode t : added) {
                String content = t.path("content").asText();
                int id = t.path("id").asInt();
                if (t.path("special").asBoolean(false)) {
                    b.specialIds.add(id);
                }
                b.vocab.putIfAbsent(content, id);
                if (!content.isEmpty()) {
                    tokens.add(content);
                    ids.add(id);
                }
            }
        }
        Integer[] order = new Integer[tokens.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> Integer.compare(tokens.get(y).length(), tokens.get(x).length()));
        b.addedTokens = new String[order.length];
        b.addedIds = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            b.addedTokens[i] = tokens.get(order[i]);
            b.addedIds[i] = ids.get(order[i]);
        }
    }

    private static void flatten(JsonNode node, List<JsonNode> out, String where, String what, Set<String> supported) {
        if (node == null || node.isNull()) {
            return;
        }
        String type = node.path("type").asText();
        if (type.equals("Sequence")) {
            JsonNode items = node.has(what + "s") ? node.get(what + "s") : node.has("pretokenizers") ? node.get("pretokenizers")
                : node.has("normalizers") ? node.get("normalizers") : node.get("decoders");
            if (items == null) {
                throw new IllegalArgumentException(where + " " + what + " [Sequence] has no items");
            }
            for (JsonNode n : items) {
                flatten(n, out, where, what, supported);
            }
            return;
        }
        if (!supported.contains(type)) {
            throw new IllegalArgumentException(where + " " + what + " type [" + type + "] is not supported; supported: "
                + new java.util.TreeSet<>(supported));
        }
        out.add(node);
    }

    private static void loadPostProcessor(JsonNode pp, Builder b) {
        if (pp == null || pp.isNull()) {
            return;
        }
        String type = pp.path("type").asText();
        List<Integer> pre = new ArrayList<>();
        List<Integer> post = new ArrayList<>();
        switch (type) {
            case "TemplateProcessing" -> {
                boolean seen = false;
                for (JsonNode piece : pp.path("single")) {
                    if (piece.has("Sequence")) {
                        seen = true;
                        continue;
                    }
                    String id = piece.path("SpecialToken").path("id").asText();
                    JsonNode spec = pp.path("special_tokens").path(id);
                    List<Integer> target = seen ? post : pre;
                    if (spec.has("ids")) {
                        for (JsonNode i : spec.get("ids")) {
                            target.add(i.asInt());
                        }
                    } else {
                        Integer i = b.vocab.get(id);
                        if (i == null) {
                            throw new IllegalArgumentException(b.where + " post_processor token [" + id + "] is not in the vocabulary");
                        }
                        target.add(i);
                    }
                }
            }
            case "RobertaProcessing", "BertProcessing" -> {
                pre.add(pp.path("cls").get(1).asInt());
                post.add(pp.path("sep").get(1).asInt());
            }
            case "ByteLevel" -> { }
            default -> throw new IllegalArgumentException(b.where + " post_processor type [" + type
                + "] is not supported; supported: [BertProcessing, ByteLevel, RobertaProcessing, TemplateProcessing]");
        }
        b.prefixIds = pre.stream().mapToInt(Integer::intValue).toArray();
        b.suffixIds = post.stream().mapToInt(Integer::intValue).toArray();
    }

    // ---------------------------------------------------------------- encode

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        List<Integer> ids = new ArrayList<>();
        if (addSpecialTokens) {
            for (int i : prefixIds) {
                ids.add(i);
            }
        }
        if (kind == Kind.WORDPIECE) {
            for (int i : bert.tokenize(text).ids()) {
                ids.add(i);
            }
        } else {
            int fragment = 0;
            int pos = 0;
            int n = text.length();
            int start = 0;
            while (pos <= n) {
                int match = pos < n ? addedAt(text, pos) : -1;
                if (pos == n || match >= 0) {
                    if (pos > start) {
                        encodeFragment(text.substring(start, pos), fragment++, ids);
                    }
                    if (pos == n) {
                        break;
                    }
                    ids.add(addedIds[match]);
                    pos += addedTokens[match].length();
                    start = pos;
                } else {
                    pos++;
                }
            }
        }
        if (addSpecialTokens) {
            for (int i : suffixIds) {
                ids.add(i);
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public int[] encode(String text, int maxTokens) {
        int specials = prefixIds.length + suffixIds.length;
        if (maxTokens <= specials) {
            throw new IllegalArgumentException(where + " [max_tokens] must be above the [" + specials
                + "] special tokens but was [" + maxTokens + "]");
        }
        int[] content = encode(text, false);
        int keep = Math.min(content.length, maxTokens - specials);
        int[] out = new int[keep + specials];
        System.arraycopy(prefixIds, 0, out, 0, prefixIds.length);
        System.arraycopy(content, 0, out, prefixIds.length, keep);
        System.arraycopy(suffixIds, 0, out, prefixIds.length + keep, suffixIds.length);
        return out;
    }

    private int addedAt(String text, int pos) {
        for (int i = 0; i < addedTokens.length; i++) {
            if (text.startsWith(addedTokens[i], pos)) {
                return i;
            }
        }
        return -1;
    }

    private void encodeFragment(String raw, int fragment, List<Integer> out) {
        String s = raw;
        for (JsonNode nz : normalizers) {
            s = normalize(nz, s);
        }
        List<String> words = List.of(s);
        for (JsonNode pt : preTokenizers) {
            List<String> next = new ArrayList<>();
            for (String w : words) {
                preTokenize(pt, w, fragment, next);
            }
            words = next;
        }
        for (String w : words) {
            if (w.isEmpty()) {
                continue;
            }
            if (kind == Kind.BPE) {
                bpe(w, out);
            } else {
                unigram(w, out);
            }
        }
    }

    private static String normalize(JsonNode nz, String s) {
        return switch (nz.path("type").asText()) {
            case "NFC" -> Normalizer.normalize(s, Normalizer.Form.NFC);
            case "NFD" -> Normalizer.normalize(s, Normalizer.Form.NFD);
            case "NFKC", "Precompiled" -> Normalizer.normalize(s, Normalizer.Form.NFKC);
            case "NFKD" -> Normalizer.normalize(s, Normalizer.Form.NFKD);
            case "Lowercase" -> s.toLowerCase(Locale.ROOT);
            case "Strip" -> {
                String t = s;
                if (nz.path("strip_left").asBoolean(true)) {
                    t = t.stripLeading();
                }
                if (nz.path("strip_right").asBoolean(true)) {
                    t = t.stripTrailing();
                }
                yield t;
            }
            case "Replace" -> replace(nz, s);
            case "Prepend" -> s.isEmpty() ? s : nz.path("prepend").asText() + s;
            default -> throw new IllegalStateException(nz.toString());
        };
    }

    private static String replace(JsonNode nz, String s) {
        JsonNode p = nz.path("pattern");
        String content = nz.path("content").asText();
        if (p.has("String")) {
            return s.replace(p.get("String").asText(), content);
        }
        return Pattern.compile(p.path("Regex").asText()).matcher(s).replaceAll(Matcher.quoteReplacement(content));
    }

    private static void preTokenize(JsonNode pt, String s, int fragment, List<String> out) {
        switch (pt.path("type").asText()) {
            case "Metaspace" -> {
                String rep = pt.path("replacement").asText("\u2581");
                String scheme = pt.has("prepend_scheme") ? pt.get("prepend_scheme").asText()
                    : pt.path("add_prefix_space").asBoolean(true) ? "always" : "never";
                String t = s.replace(" ", rep);
                boolean prepend = scheme.equals("always") || (scheme.equals("first") && fragment == 0);
                if (prepend && !t.startsWith(rep)) {
                    t = rep + t;
                }
                if (!pt.path("split").asBoolean(true)) {
                    out.add(t);
                    return;
                }
                int start = 0;
                int at;
                while ((at = t.indexOf(rep, start + 1)) >= 0) {
                    out.add(t.substring(start, at));
                    start = at;
                }
                if (start < t.length()) {
                    out.add(t.substring(start));
                }
            }
            case "ByteLevel" -> {
                String t = s;
                if (pt.path("add_prefix_space").asBoolean(true) && !t.startsWith(" ")) {
                    t = " " + t;
                }
                List<String> pieces = new ArrayList<>();
                if (pt.path("use_regex").asBoolean(true)) {
                    Matcher m = GPT2.matcher(t);
                    while (m.find()) {
                        pieces.add(m.group());
                    }
                } else {
                    pieces.add(t);
                }
                for (String p : pieces) {
                    byte[] bytes = p.getBytes(StandardCharsets.UTF_8);
                    char[] cs = new char[bytes.length];
                    for (int i = 0; i < bytes.length; i++) {
                        cs[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
                    }
                    out.add(new String(cs));
                }
            }
            case "Whitespace" -> {
                Matcher m = WHITESPACE.matcher(s);
                while (m.find()) {
                    out.add(m.group());
                }
            }
            case "WhitespaceSplit" -> {
                Matcher m = WHITESPACE_SPLIT.matcher(s);
                while (m.find()) {
                    out.add(m.group());
                }
            }
            default -> throw new IllegalStateException(pt.toString());
        }
    }

    /** Appends the ids of {@code ch} as byte-fallback tokens, or returns false if one is missing. */
    private boolean byteTokens(String ch, List<Integer> out) {
        byte[] bytes = ch.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            Integer id = vocab.get(String.format(Locale.ROOT, "<0x%02X>", bytes[i] & 0xFF));
            if (id == null) {
                return false;
            }
            ids[i] = id;
        }
        for (int id : ids) {
            out.add(id);
        }
        return true;
    }

    private void addUnk(String what, List<Integer> out, boolean[] lastWasUnk) {
        if (unkId < 0) {
            throw new IllegalArgumentException(where + " cannot encode [" + what + "]: not in the vocabulary and no unk token");
        }
        if (!(fuseUnk && lastWasUnk[0])) {
            out.add(unkId);
        }
        lastWasUnk[0] = true;
    }

    private void bpe(String word, List<Integer> out) {
        if (ignoreMerges) {
            Integer id = vocab.get(word);
            if (id != null) {
                out.add(id);
                return;
            }
        }
        // symbols: their strings; null marks an unknown character (never merged)
        List<String> syms = new ArrayList<>();
        List<String> raw = new ArrayList<>();
        int n = word.length();
        for (int i = 0; i < n; ) {
            int cp = word.codePointAt(i);
            int len = Character.charCount(cp);
            String c = word.substring(i, i + len);
            String s = c;
            if (i > 0 && continuingPrefix != null) {
                s = continuingPrefix + s;
            }
            if (i + len == n && endOfWordSuffix != null) {
                s = s + endOfWordSuffix;
            }
            syms.add(vocab.containsKey(s) ? s : null);
            raw.add(c);
            i += len;
        }
        while (true) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < syms.size(); i++) {
                String a = syms.get(i);
                String b = syms.get(i + 1);
                if (a == null || b == null) {
                    continue;
                }
                Integer r = mergeRanks.get(a + " " + b);
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            String merged = syms.get(best) + stripPrefix(syms.get(best + 1));
            if (!vocab.containsKey(merged)) {
                break;
            }
            syms.set(best, merged);
            syms.remove(best + 1);
            raw.set(best, raw.get(best) + raw.get(best + 1));
            raw.remove(best + 1);
        }
        boolean[] lastUnk = {false};
        for (int i = 0; i < syms.size(); i++) {
            String s = syms.get(i);
            if (s != null) {
                out.add(vocab.get(s));
                lastUnk[0] = false;
            } else if (byteFallback && byteTokens(raw.get(i), out)) {
                lastUnk[0] = false;
            } else {
                addUnk(raw.get(i), out, lastUnk);
            }
        }
    }

    private String stripPrefix(String s) {
        return continuingPrefix != null && s.startsWith(continuingPrefix) ? s.substring(continuingPrefix.length()) : s;
    }

    private void unigram(String word, List<Integer> out) {
        int m = word.codePointCount(0, word.length());
        int[] offs = new int[m + 1];
        for (int i = 0, at = 0; i < m; i++) {
            offs[i] = at;
            at += Character.charCount(word.codePointAt(at));
        }
        offs[m] = word.length();
        double[] best = new double[m + 1];
        int[] from = new int[m + 1];
        int[] tok = new int[m + 1];
        Arrays.fill(best, Double.NEGATIVE_INFINITY);
        best[0] = 0;
        for (int i = 0; i < m; i++) {
            if (best[i] == Double.NEGATIVE_INFINITY) {
                continue;
            }
            boolean single = false;
            for (int len = 1; len <= maxPieceChars && i + len <= m; len++) {
                Integer id = vocab.get(word.substring(offs[i], offs[i + len]));
                if (id == null || id >= scores.length) {
                    continue;
                }
                if (len == 1) {
                    single = true;
                }
                double sc = best[i] + scores[id];
                if (sc > best[i + len]) {
                    best[i + len] = sc;
                    from[i + len] = i;
                    tok[i + len] = id;
                }
            }
            if (!single) {
                double sc = best[i] + unkScore;
                if (sc > best[i + 1]) {
                    best[i + 1] = sc;
                    from[i + 1] = i;
                    tok[i + 1] = -1;
                }
            }
        }
        List<int[]> path = new ArrayList<>();
        for (int e = m; e > 0; e = from[e]) {
            path.add(new int[] {from[e], e, tok[e]});
        }
        boolean[] lastUnk = {false};
        for (int k = path.size() - 1; k >= 0; k--) {
            int[] p = path.get(k);
            if (p[2] >= 0) {
                out.add(p[2]);
                lastUnk[0] = false;
            } else if (byteFallback && byteTokens(word.substring(offs[p[0]], offs[p[1]]), out)) {
                lastUnk[0] = false;
            } else {
                addUnk(word.substring(offs[p[0]], offs[p[1]]), out, lastUnk);
            }
        }
    }

    // ---------------------------------------------------------------- decode

    @Override
    public String decode(int[] ids, int from, int to) {
        List<String> tokens = new ArrayList<>();
        for (int i = from; i < to; i++) {
            int id = ids[i];
            if (specialIds.contains(id) || id < 0 || id >= idToToken.length || idToToken[id] == null) {
                continue;
            }
            tokens.add(idToToken[id]);
        }
        if (decoders.isEmpty()) {
            return String.join(" ", tokens);
        }
        for (JsonNode d : decoders) {
            tokens = decodeStep(d, tokens);
        }
        return String.join("", tokens);
    }

    private static List<String> decodeStep(JsonNode d, List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        switch (d.path("type").asText()) {
            case "ByteLevel" -> {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                for (String t : tokens) {
                    for (int i = 0; i < t.length(); i++) {
                        Integer b = CHAR_TO_BYTE.get(t.charAt(i));
                        if (b != null) {
                            bytes.write(b);
                        } else {
                            byte[] raw = String.valueOf(t.charAt(i)).getBytes(StandardCharsets.UTF_8);
                            bytes.write(raw, 0, raw.length);
                        }
                    }
                }
                out.add(bytes.toString(StandardCharsets.UTF_8));
            }
            case "Metaspace" -> {
                String rep = d.path("replacement").asText("\u2581");
                String scheme = d.has("prepend_scheme") ? d.get("prepend_scheme").asText()
                    : d.path("add_prefix_space").asBoolean(true) ? "always" : "never";
                for (int i = 0; i < tokens.size(); i++) {
                    String t = tokens.get(i).replace(rep, " ");
                    if (i == 0 && !scheme.equals("never") && t.startsWith(" ")) {
                        t = t.substring(1);
                    }
                    out.add(t);
                }
            }
            case "WordPiece" -> {
                String prefix = d.path("prefix").asText("##");
                for (int i = 0; i < tokens.size(); i++) {
                    String t = tokens.get(i);
                    if (i > 0) {
                        t = t.startsWith(prefix) ? t.substring(prefix.length()) : " " + t;
                    }
                    if (d.path("cleanup").asBoolean(true)) {
                        t = cleanup(t);
                    }
                    out.add(t);
                }
            }
            case "Replace" -> {
                for (String t : tokens) {
                    out.add(replace(d, t));
                }
            }
            case "Fuse" -> out.add(String.join("", tokens));
            case "Strip" -> {
                String c = d.path("content").asText(" ");
                int start = d.path("start").asInt(0);
                int stop = d.path("stop").asInt(0);
                for (String t : tokens) {
                    int a = 0;
                    int z = t.length();
                    for (int k = 0; k < start && t.startsWith(c, a); k++) {
                        a += c.length();
                    }
                    for (int k = 0; k < stop && z - c.length() >= a && t.startsWith(c, z - c.length()); k++) {
                        z -= c.length();
                    }
                    out.add(t.substring(a, z));
                }
            }
            case "ByteFallback" -> {
                ByteArrayOutputStream pending = new ByteArrayOutputStream();
                for (String t : tokens) {
                    if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
                        try {
                            pending.write(Integer.parseInt(t.substring(3, 5), 16));
                            continue;
                        } catch (NumberFormatException e) {
                            // not a byte token
                        }
                    }
                    flushBytes(pending, out);
                    out.add(t);
                }
                flushBytes(pending, out);
            }
            default -> throw new IllegalStateException(d.toString());
        }
        return out;
    }

    private static void flushBytes(ByteArrayOutputStream pending, List<String> out) {
        if (pending.size() > 0) {
            out.add(pending.toString(StandardCharsets.UTF_8));
            pending.reset();
        }
    }

    private static String cleanup(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
            .replace(" n't", "n't").replace(" 'm", "'m").replace(" do not", " don't").replace(" 's", "'s")
            .replace(" 've", "'ve").replace(" 're", "'re");
    }

    // ---------------------------------------------------------------- lookups

    @Override
    public int tokenId(String token) {
        Integer id = vocab.get(token);
        return id == null ? -1 : id;
    }

    @Override
    public String token(int id) {
        return id >= 0 && id < idToToken.length ? idToToken[id] : null;
    }

    @Override
    public boolean isSpecial(int id) {
        return specialIds.contains(id);
    }

    @Override
    public int vocabSize() {
        return idToToken.length;
    }

    @Override
    public String modelType() {
        return switch (kind) {
            case WORDPIECE -> "WordPiece";
            case BPE -> "BPE";
            case UNIGRAM -> "Unigram";
        };
    }
}
