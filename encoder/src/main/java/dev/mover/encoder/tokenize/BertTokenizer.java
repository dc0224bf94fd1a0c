package dev.mover.encoder.tokenize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A pure-Java BERT WordPiece tokenizer that reads a HuggingFace {@code tokenizer.json} and reproduces the Rust
 * {@code tokenizers} library: added (special) tokens matched in the raw text, {@code BertNormalizer} (clean text,
 * CJK characters split, accents stripped, lower-casing), {@code BertPreTokenizer} (whitespace and punctuation)
 * and {@code WordPiece} ({@code ##} continuation, {@code max_input_chars_per_word}).
 *
 * <p><b>Offsets.</b> Every token carries {@code [start, end)} offsets into the <em>original</em> Java string, in
 * UTF-16 chars (what {@link String#substring(int, int)} takes). A token made from part of a normalised character
 * (e.g. the two pieces {@code İ} lower-cases to) covers the whole original character. The Rust library counts
 * Unicode code points instead; the two agree on text without supplementary characters, and the parity test
 * converts between them.
 *
 * <p><b>Truncation and padding</b> configured in the tokenizer.json are ignored: the encoder windows long texts
 * itself. {@link #tokenize(String)} returns the content tokens only; [CLS] and [SEP] are added by the caller
 * ({@link #clsId()}, {@link #sepId()}).
 *
 * <p><b>Special tokens in the text.</b> Added tokens written literally in the input (e.g. {@code [SEP]},
 * {@code [MASK]}) are matched before normalisation and become those tokens, exactly as the Rust library and
 * sentence-transformers do; the model sees them as it would there.
 *
 * <p><b>Invalid UTF-16.</b> A lone surrogate is read as U+FFFD, which the BERT normaliser's {@code clean_text}
 * drops (as the Rust library drops U+FFFD), so it yields no token and the other offsets stay exact.
 *
 * <p><b>Why this tokenizer and not the Rust one in production.</b> The Rust library through DJL would be a second
 * native library in the Elasticsearch plugin sandbox (next to ONNX Runtime), with its own extraction to a cache
 * directory, entitlement grants and platform matrix, plus a JNI crossing and string copies per call. BERT
 * WordPiece is small and fully specified, so the product uses this class and the test suite proves parity against
 * the real library on thousands of sentences. Unicode tables differ slightly between the JDK and the Rust crates
 * (categories of code points assigned in recent Unicode versions, e.g. a new punctuation or format character);
 * the parity test covers real text in English and Chinese plus edge cases (accents, emoji old and new, controls,
 * private use, unassigned code points, long words, mixed scripts) with no divergence.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class BertTokenizer {
    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    private final int unkId;
    private final int clsId;
    private final int sepId;
    private final int padId;
    private final String continuingPrefix;
    private final int maxInputCharsPerWord;
    private final boolean cleanText;
    private final boolean handleChineseChars;
    private final boolean stripAccents;
    private final boolean lowercase;
    /** Added tokens matched verbatim in the raw text, longest first. */
    private final String[] addedTokens;
    private final int[] addedIds;
    /** Whether no added token contains whitespace or a CJK character (then cuts after those are safe). */
    private final boolean chunkSafeAdded;

    private BertTokenizer(Map<String, Integer> vocab, int unkId, int clsId, int sepId, int padId,
                          String continuingPrefix, int maxInputCharsPerWord, boolean cleanText,
                          boolean handleChineseChars, boolean stripAccents, boolean lowercase,
                          String[] addedTokens, int[] addedIds) {
        this.vocab = vocab;
        int max = 0;
        for (int id : vocab.values()) {
            max = Math.max(max, id);
        }
        this.idToToken = new String[max + 1];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            idToToken[e.getValue()] = e.getKey();
        }
        this.unkId = unkId;
        this.clsId = clsId;
        this.sepId = sepId;
        this.padId = padId;
        this.continuingPrefix = continuingPrefix;
        this.maxInputCharsPerWord = maxInputCharsPerWord;
        this.cleanText = cleanText;
        this.handleChineseChars = handleChineseChars;
        this.stripAccents = stripAccents;
        this.lowercase = lowercase;
        this.addedTokens = addedTokens;
        this.addedIds = addedIds;
        boolean safe = true;
        for (String t : addedTokens) {
            for (int k = 0; k < t.length(); k++) {
                if (isWhitespace(t.charAt(k)) || isChineseChar(t.charAt(k))) {
                    safe = false;
                }
            }
        }
        this.chunkSafeAdded = safe;
    }

    /**
     * Reads a HuggingFace {@code tokenizer.json} with a {@code WordPiece} model.
     *
     * @throws IllegalArgumentException if the file cannot be read or is not a BERT WordPiece tokenizer
     */
    public static BertTokenizer load(Path tokenizerJson) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(tokenizerJson.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("[mover] cannot read tokenizer [" + tokenizerJson + "]: " + e.getMessage(), e);
        }
        String where = "[mover] tokenizer [" + tokenizerJson.getFileName() + "]";
        JsonNode model = root == null ? null : root.get("model");
        if (model == null || !"WordPiece".equals(model.path("type").asText())) {
            throw new IllegalArgumentException(where + " must have a model of type [WordPiece] but was ["
                + (model == null ? "none" : model.path("type").asText()) + "]");
        }
        JsonNode vocabNode = model.get("vocab");
        if (vocabNode == null || !vocabNode.isObject() || vocabNode.size() == 0) {
            throw new IllegalArgumentException(where + " has no [model.vocab]");
        }
        Map<String, Integer> vocab = new HashMap<>(vocabNode.size() * 2);
        for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        String unk = model.path("unk_token").asText("[UNK]");
        String prefix = model.path("continuing_subword_prefix").asText("##");
        int maxChars = model.path("max_input_chars_per_word").asInt(100);

        JsonNode norm = root.get("normalizer");
        boolean clean = true;
        boolean chinese = true;
        boolean lower = true;
        Boolean strip = null;
        if (norm != null && !norm.isNull()) {
            if (!"BertNormalizer".equals(norm.path("type").asText())) {
                throw new IllegalArgumentException(where + " must have a normalizer of type [BertNormalizer] but was ["
                    + norm.path("type").asText() + "]");
            }
            clean = norm.path("clean_text").asBoolean(true);
            chinese = norm.path("handle_chinese_chars").asBoolean(true);
            lower = norm.path("lowercase").asBoolean(true);
            JsonNode s = norm.get("strip_accents");
            strip = s == null || s.isNull() ? null : s.asBoolean();
        } else {
            clean = false;
            chinese = false;
            lower = false;
        }
        boolean stripAccents = strip == null ? lower : strip;
        JsonNode pre = root.get("pre_tokenizer");
        if (pre != null && !pre.isNull() && !"BertPreTokenizer".equals(pre.path("type").asText())) {
            throw new IllegalArgumentException(where + " must have a pre_tokenizer of type [BertPreTokenizer] but was ["
                + pre.path("type").asText() + "]");
        }

        List<String> added = new ArrayList<>();
        List<Integer> addedIdList = new ArrayList<>();
        JsonNode addedNode = root.get("added_tokens");
        if (addedNode != null && addedNode.isArray()) {
            for (JsonNode t : addedNode) {
                String content = t.path("content").asText();
                if (content.isEmpty()) {
                    continue;
                }
                if (t.path("normalized").asBoolean(false) || t.path("single_word").asBoolean(false)
                    || t.path("lstrip").asBoolean(false) || t.path("rstrip").asBoolean(false)) {
                    throw new IllegalArgumentException(where + " added token [" + content
                        + "] uses normalized/single_word/lstrip/rstrip, which this tokenizer does not support");
                }
                added.add(content);
                addedIdList.add(t.path("id").asInt());
                vocab.putIfAbsent(content, t.path("id").asInt());
            }
        }
        Integer[] order = new Integer[added.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(added.get(b).length(), added.get(a).length()));
        String[] addedArr = new String[order.length];
        int[] addedIds = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            addedArr[i] = added.get(order[i]);
            addedIds[i] = addedIdList.get(order[i]);
        }
        int unkId = required(vocab, unk, where);
        int clsId = required(vocab, "[CLS]", where);
        int sepId = required(vocab, "[SEP]", where);
        int padId = vocab.getOrDefault("[PAD]", 0);
        return new BertTokenizer(vocab, unkId, clsId, sepId, padId, prefix, maxChars, clean, chinese, stripAccents,
            lower, addedArr, addedIds);
    }

    private static int required(Map<String, Integer> vocab, String token, String where) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException(where + " has no token [" + token + "] in its vocabulary");
        }
        return id;
    }

    /** Id of {@code [CLS]}. */
    public int clsId() {
        return clsId;
    }

    /** Id of {@code [SEP]}. */
    public int sepId() {
        return sepId;
    }

    /** Id of {@code [PAD]} (0 when the vocabulary has none). */
    public int padId() {
        return padId;
    }

    /** Id of the unknown-token. */
    public int unkId() {
        return unkId;
    }

    /** Whether the normaliser lower-cases. */
    public boolean lowercase() {
        return lowercase;
    }

    /** Vocabulary size (largest id + 1). */
    public int vocabSize() {
        return idToToken.length;
    }

    /** The token string of an id, or {@code null}. */
    public String token(int id) {
        return id >= 0 && id < idToToken.length ? idToToken[id] : null;
    }

    /**
     * Tokenizes {@code text} into content tokens (no [CLS]/[SEP]) with UTF-16 offsets into {@code text}.
     * Empty or whitespace-only text gives zero tokens.
     */
    public Tokens tokenize(String text) {
        TokenSink out = new TokenSink(Math.max(8, text.length() / 3));
        tokenizeRange(text, 0, text.length(), out);
        return out.toTokens();
    }

    /**
     * Like {@link #tokenize(String)} but stops once more than {@code maxTokens} tokens exist: the result holds the
     * first {@code min(total, maxTokens + 1)} tokens, identical to the start of the full tokenization, so a size
     * above {@code maxTokens} means the text is longer. Long texts are read in chunks cut at word boundaries
     * (after whitespace, or after a CJK character when those are split), so a huge text costs time and memory in
     * proportion to the part that is kept, not to its length.
     */
    public Tokens tokenize(String text, int maxTokens) {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("[mover] maxTokens must be >= 0 but was [" + maxTokens + "]");
        }
        int n = text.length();
        int chunk = (int) Math.min(Integer.MAX_VALUE, Math.max(MIN_CHUNK_CHARS, 8L * (maxTokens + 1)));
        if (n <= chunk) {
            Tokens all = tokenize(text);
            return all.size() <= maxTokens + 1 ? all : all.prefix(maxTokens + 1);
        }
        TokenSink out = new TokenSink(Math.min(maxTokens + 16, n / 3 + 8));
        int from = 0;
        while (from < n && out.size <= maxTokens) {
            int to = nextCut(text, Math.min(n, from + chunk));
            tokenizeRange(text, from, to, out);
            from = to;
        }
        Tokens t = out.toTokens();
        return t.size() <= maxTokens + 1 ? t : t.prefix(maxTokens + 1);
    }

    /** Shortest chunk {@link #tokenize(String, int)} reads at once. */
    static final int MIN_CHUNK_CHARS = 1 << 14;
    /** How far past the wanted end a chunk may extend looking for a word boundary before taking the whole rest. */
    private static final int MAX_CUT_SEARCH = 1 << 16;

    /**
     * A position {@code >= p} where the text may be cut without changing its tokens: just after a whitespace
     * character, or after a CJK character when those are isolated. Added tokens never contain either, so no added
     * token spans such a cut. Returns the text length when none is found nearby.
     */
    private int nextCut(String text, int p) {
        int n = text.length();
        int limit = (int) Math.min(n, (long) p + MAX_CUT_SEARCH);
        for (int i = Math.max(p, 1); i < limit; i++) {
            char c = text.charAt(i - 1);
            if (Character.isSurrogate(c)) {
                continue;
            }
            // a whitespace character that clean_text removes as a control (e.g. U+0085) joins its neighbours
            boolean splits = isWhitespace(c) && !(cleanText && isControl(c));
            if (chunkSafeAdded && (splits || (handleChineseChars && isChineseChar(c)))) {
                return i;
            }
        }
        return n;
    }

    private void tokenizeRange(String text, int from, int n, TokenSink out) {
        int segStart = from;
        int i = from;
        if (addedTokens.length > 0) {
            while (i < n) {
                int match = matchAdded(text, i, n);
                if (match >= 0) {
                    tokenizeSegment(text, segStart, i, out);
                    out.add(addedIds[match], i, i + addedTokens[match].length());
                    i += addedTokens[match].length();
                    segStart = i;
                } else {
                    i++;
                }
            }
        }
        tokenizeSegment(text, segStart, n, out);
    }

    private int matchAdded(String text, int at, int end) {
        char c = text.charAt(at);
        for (int k = 0; k < addedTokens.length; k++) {
            String t = addedTokens[k];
            if (t.charAt(0) == c && at + t.length() <= end && text.startsWith(t, at)) {
                return k; // longest first
            }
        }
        return -1;
    }

    /** Normalises {@code text[from, to)} and appends its word pieces. */
    private void tokenizeSegment(String text, int from, int to, TokenSink out) {
        if (from >= to) {
            return;
        }
        Normalized norm = normalize(text, from, to);
        int len = norm.length;
        int[] cps = norm.cps;
        int w = 0;
        while (w < len) {
            int c = cps[w];
            if (isWhitespace(c)) {
                w++;
                continue;
            }
            if (isBertPunctuation(c)) {
                wordPiece(norm, w, w + 1, out);
                w++;
                continue;
            }
            int e = w + 1;
            while (e < len && !isWhitespace(cps[e]) && !isBertPunctuation(cps[e])) {
                e++;
            }
            wordPiece(norm, w, e, out);
            w = e;
        }
    }

    private void wordPiece(Normalized norm, int from, int to, TokenSink out) {
        int[] cps = norm.cps;
        if (to - from > maxInputCharsPerWord) {
            out.add(unkId, norm.starts[from], norm.ends[to - 1]);
            return;
        }
        int mark = out.size;
        int start = from;
        StringBuilder sb = new StringBuilder();
        while (start < to) {
            int end = to;
            int found = -1;
            while (start < end) {
                sb.setLength(0);
                if (start > from) {
                    sb.append(continuingPrefix);
                }
                for (int k = start; k < end; k++) {
                    sb.appendCodePoint(cps[k]);
                }
                Integer id = vocab.get(sb.toString());
                if (id != null) {
                    found = id;
                    break;
                }
                end--;
            }
            if (found < 0) {
                out.size = mark;
                out.add(unkId, norm.starts[from], norm.ends[to - 1]);
                return;
            }
            out.add(found, norm.starts[start], norm.ends[end - 1]);
            start = end;
        }
    }

    /** Normalised code points, each with the UTF-16 span of the original character it came from. */
    static final class Normalized {
        int[] cps;
        int[] starts;
        int[] ends;
        int length;

        Normalized(int capacity) {
            cps = new int[capacity];
            starts = new int[capacity];
            ends = new int[capacity];
        }

        void add(int cp, int start, int end) {
            if (length == cps.length) {
                int cap = cps.length * 2 + 4;
                cps = Arrays.copyOf(cps, cap);
                starts = Arrays.copyOf(starts, cap);
                ends = Arrays.copyOf(ends, cap);
            }
            cps[length] = cp;
            starts[length] = start;
            ends[length] = end;
            length++;
        }
    }

    Normalized normalize(String text, int from, int to) {
        Normalized out = new Normalized(to - from + 8);
        int i = from;
        while (i < to) {
            char ch = text.charAt(i);
            int cp;
            int next;
            if (Character.isHighSurrogate(ch) && i + 1 < to && Character.isLowSurrogate(text.charAt(i + 1))) {
                cp = Character.toCodePoint(ch, text.charAt(i + 1));
                next = i + 2;
            } else if (Character.isSurrogate(ch)) {
                cp = 0xFFFD; // lone surrogate
                next = i + 1;
            } else {
                cp = ch;
                next = i + 1;
            }
            if (cleanText) {
                if (cp == 0 || cp == 0xFFFD || isControl(cp)) {
                    i = next;
                    continue;
                }
                if (isWhitespace(cp)) {
                    cp = ' ';
                }
            }
            if (handleChineseChars && isChineseChar(cp)) {
                out.add(' ', i, next);
                addStripLower(out, cp, i, next);
                out.add(' ', i, next);
            } else {
                addStripLower(out, cp, i, next);
            }
            i = next;
        }
        return out;
    }

    private void addStripLower(Normalized out, int cp, int start, int end) {
        if (stripAccents && cp >= 0x80) {
            String nfd = Normalizer.normalize(new String(Character.toChars(cp)), Normalizer.Form.NFD);
            for (int k = 0; k < nfd.length(); ) {
                int d = nfd.codePointAt(k);
                k += Character.charCount(d);
                if (Character.getType(d) != Character.NON_SPACING_MARK) {
                    addLower(out, d, start, end);
                }
            }
        } else {
            addLower(out, cp, start, end);
        }
    }

    private void addLower(Normalized out, int cp, int start, int end) {
        if (!lowercase) {
            out.add(cp, start, end);
        } else if (cp == 0x130) { // the one unconditional multi-char lower-case mapping: İ -> i + U+0307
            out.add('i', start, end);
            out.add(0x307, start, end);
        } else {
            out.add(Character.toLowerCase(cp), start, end);
        }
    }

    /** Whitespace as Rust's {@code char::is_whitespace} (the Unicode White_Space property). */
    static boolean isWhitespace(int c) {
        switch (c) {
            case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0: case 0x1680:
            case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
                return true;
            default:
                return c >= 0x2000 && c <= 0x200A;
        }
    }

    /**
     * The BERT normaliser's control test as the Rust library computes it ({@code unicode_categories}'
     * {@code is_other}): categories Cc, Cf, Co and Cs, except tab, newline and carriage return. Unassigned code
     * points (Cn) are <em>not</em> controls there (they become [UNK]), which also keeps the JDK's older Unicode
     * tables from dropping recently assigned characters such as new emoji.
     */
    static boolean isControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r') {
            return false;
        }
        switch (Character.getType(c)) {
            case Character.CONTROL:
            case Character.FORMAT:
            case Character.PRIVATE_USE:
            case Character.SURROGATE:
                return true;
            default:
                return false;
        }
    }

    /** ASCII punctuation or any Unicode punctuation category (Pc, Pd, Pe, Pf, Pi, Po, Ps). */
    static boolean isBertPunctuation(int c) {
        if (c < 0x80) {
            return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
        }
        switch (Character.getType(c)) {
            case Character.CONNECTOR_PUNCTUATION:
            case Character.DASH_PUNCTUATION:
            case Character.END_PUNCTUATION:
            case Character.FINAL_QUOTE_PUNCTUATION:
            case Character.INITIAL_QUOTE_PUNCTUATION:
            case Character.OTHER_PUNCTUATION:
            case Character.START_PUNCTUATION:
                return true;
            default:
                return false;
        }
    }

    /** The CJK ideograph blocks BERT isolates. */
    static boolean isChineseChar(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
            || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF)
            || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }

    private static final class TokenSink {
        int[] ids;
        int[] starts;
        int[] ends;
        int size;

        TokenSink(int capacity) {
            ids = new int[capacity];
            starts = new int[capacity];
            ends = new int[capacity];
        }

        void add(int id, int start, int end) {
            if (size == ids.length) {
                int cap = ids.length * 2;
                ids = Arrays.copyOf(ids, cap);
                starts = Arrays.copyOf(starts, cap);
                ends = Arrays.copyOf(ends, cap);
            }
            ids[size] = id;
            starts[size] = start;
            ends[size] = end;
            size++;
        }

        Tokens toTokens() {
            return new Tokens(Arrays.copyOf(ids, size), Arrays.copyOf(starts, size), Arrays.copyOf(ends, size));
        }
    }

    /** Content tokens of one text: ids and UTF-16 {@code [start, end)} offsets, parallel arrays. */
    public static final class Tokens {
        private final int[] ids;
        private final int[] starts;
        private final int[] ends;

        Tokens(int[] ids, int[] starts, int[] ends) {
            this.ids = ids;
            this.starts = starts;
            this.ends = ends;
        }

        /** Number of tokens. */
        public int size() {
            return ids.length;
        }

        /** The first {@code n} tokens. */
        public Tokens prefix(int n) {
            return new Tokens(Arrays.copyOf(ids, n), Arrays.copyOf(starts, n), Arrays.copyOf(ends, n));
        }

        /** Token ids (the array itself; do not modify). */
        public int[] ids() {
            return ids;
        }

        /** UTF-16 start offsets, inclusive (the array itself; do not modify). */
        public int[] starts() {
            return starts;
        }

        /** UTF-16 end offsets, exclusive (the array itself; do not modify). */
        public int[] ends() {
            return ends;
        }
    }
}
