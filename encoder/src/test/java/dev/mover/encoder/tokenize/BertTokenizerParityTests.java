package dev.mover.encoder.tokenize;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mover.encoder.ModelDescriptor;
import dev.mover.encoder.TestModels;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parity of {@link BertTokenizer} with HuggingFace's Rust tokenizers (through DJL, test scope only) on real
 * sentences from ../shared/data and hand-made edge cases: ids and offsets must be identical.
 *
 * <p>The Rust library reports offsets in Unicode code points; ours are UTF-16 chars, converted here with
 * {@link String#codePointCount(int, int)}.
 */
class BertTokenizerParityTests {
    /** Hand-made edge cases (lone surrogates are not representable in Rust strings; see TextEncoderTests). */
    static final List<String> EDGE_CASES = List.of(
        "",
        " ",
        "\t\n\r ",
        "Café naïve résumé Ångström façade Ünïcödé ÉCOLE",
        "ΣΊΣΥΦΟΣ ὀδυσσεύς Ελληνικά",
        "İstanbul ıi İİ DİYARBAKIR",
        "Straße ẞ ß ǅ ǈ",
        "ﬁne ﬂow ﬀ",
        "ＡＢＣ１２３ｱｲｳ",
        "I ❤️ 🍕 and 👨‍👩‍👧 and 😀😂 done",
        "new emoji 🥰 🫠 🦄 flags 🇫🇷🇨🇳",
        "a\u0000b\u0001c\u007Fd\u0085e\u200Bf\uFEFFg\u00ADh",
        "\u00A0nbsp\u2009thin\u3000ideographic\u2028line\u202Fnarrow",
        "a".repeat(150),
        "supercalifragilisticexpialidocious".repeat(3),
        "supercalifragilisticexpialidocious".repeat(2) + "x".repeat(31),
        "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
        "Hello世界! Привет мир. مرحبا بالعالم. שלום. नमस्ते. こんにちは。안녕하세요 ไทย",
        "«quoted» „German“ ‘single’ — dash – en … ellipsis ¿¡ 【括号】「引号」",
        "x²+y³=z⁴ ½ ∑∫√ ≠ ≤ € £ ¥ $5 ^_^ `~|",
        "e\u0301 a\u0300 n\u0303 o\u0308\u0304 Zalgo: Z\u0351\u0357a\u0300l\u0301g\u0302o",
        "[CLS] hello [SEP] [MASK] [UNK]x[PAD] [cls]",
        "https://example.com/a_b?c=d&e=f#g user@example.org",
        "3.14159 1,000,000 2024-11-25 10:05 UTC",
        "\uE000 private \u0378 unassigned \uFFFF",
        "𠀀𠀁𪚥 ext-B and 丂 丏 ext-A 㐀",
        "Ǆemal ŉ ΐ ΰ և ﬓ",
        "tab\there\nnewline\r\ncrlf",
        "\u0600 arabic number sign, \u061C ALM, \u2066isolate\u2069",
        "Ⅻ ⅻ ① ⓐ ㈱ ㍿",
        "　全角空格　和中文标点：，。！？；",
        "ℌ𝔢𝔩𝔩𝔬 𝐁𝐨𝐥𝐝 𝟙𝟚𝟛",
        "Hangul 한국어 NFD \u1112\u1161\u11AB",
        "a,b.c;d:e!f?g(h)i[j]k{l}m\"n'o",
        "mixedCASE CamelCase HTTPServer iPhone",
        "  leading and trailing spaces  "
    );

    static List<String> sentences() throws Exception {
        Path data = TestModels.dataDir();
        Set<String> out = new LinkedHashSet<>();
        tsvColumns(data.resolve("sts-en/stsb-dev.tsv"), out, Integer.MAX_VALUE, 6, 7);
        tsvColumns(data.resolve("sts-en/sick-trial.tsv"), out, Integer.MAX_VALUE, 3, 4);
        jsonl(data.resolve("retrieval-scifact/queries.jsonl"), out, Integer.MAX_VALUE, "text");
        jsonl(data.resolve("retrieval-scifact/corpus.jsonl"), out, 300, "title", "text");
        tsvColumns(data.resolve("sts-zh/stsb-zh-dev.tsv"), out, Integer.MAX_VALUE, 1, 2);
        tsvColumns(data.resolve("sts-zh/atec-dev.tsv"), out, 1000, 1, 2);
        jsonl(data.resolve("retrieval-cmrc2018/queries.jsonl"), out, Integer.MAX_VALUE, "text");
        jsonl(data.resolve("retrieval-cmrc2018/corpus.jsonl"), out, 200, "title", "text");
        return new ArrayList<>(out);
    }

    private static void tsvColumns(Path file, Set<String> out, int maxRows, int... cols) throws Exception {
        try (BufferedReader r = Files.newBufferedReader(file)) {
            r.readLine();
            String line;
            int rows = 0;
            while ((line = r.readLine()) != null && rows++ < maxRows) {
                String[] f = line.split("\t", -1);
                for (int c : cols) {
                    if (c < f.length) {
                        out.add(f[c]);
                    }
                }
            }
        }
    }

    private static void jsonl(Path file, Set<String> out, int maxRows, String... fields) throws Exception {
        ObjectMapper om = new ObjectMapper();
        try (BufferedReader r = Files.newBufferedReader(file)) {
            String line;
            int rows = 0;
            while ((line = r.readLine()) != null && rows++ < maxRows) {
                var node = om.readTree(line);
                for (String f : fields) {
                    String s = node.path(f).asText("");
                    if (!s.isEmpty()) {
                        out.add(s);
                    }
                }
            }
        }
    }

    /** Compares ours and the Rust library's; returns a description of the first difference or null. */
    static String compare(BertTokenizer ours, HuggingFaceTokenizer hf, String text) {
        Encoding e = hf.encode(text, true, false);
        long[] ids = e.getIds();
        CharSpan[] spans = e.getCharTokenSpans();
        BertTokenizer.Tokens t = ours.tokenize(text);
        int n = t.size();
        int[] hfIds = new int[Math.max(0, ids.length - 2)];
        int[] hfStarts = new int[hfIds.length];
        int[] hfEnds = new int[hfIds.length];
        for (int i = 0; i < hfIds.length; i++) {
            hfIds[i] = (int) ids[i + 1];
            hfStarts[i] = spans[i + 1].getStart();
            hfEnds[i] = spans[i + 1].getEnd();
        }
        int[] ourStarts = new int[n];
        int[] ourEnds = new int[n];
        for (int i = 0; i < n; i++) {
            ourStarts[i] = text.codePointCount(0, t.starts()[i]);
            ourEnds[i] = text.codePointCount(0, t.ends()[i]);
        }
        if (ids.length < 2 || ids[0] != ours.clsId() || ids[ids.length - 1] != ours.sepId()) {
            return "special tokens " + Arrays.toString(ids);
        }
        if (!Arrays.equals(hfIds, t.ids())) {
            return "ids differ\n  hf:   " + Arrays.toString(hfIds) + " " + Arrays.toString(e.getTokens())
                + "\n  ours: " + Arrays.toString(t.ids());
        }
        if (!Arrays.equals(hfStarts, ourStarts) || !Arrays.equals(hfEnds, ourEnds)) {
            return "offsets differ\n  hf:   " + Arrays.toString(hfStarts) + " " + Arrays.toString(hfEnds)
                + "\n  ours: " + Arrays.toString(ourStarts) + " " + Arrays.toString(ourEnds);
        }
        return null;
    }

    private static void parity(String modelName) throws Exception {
        ModelDescriptor model = ModelDescriptor.load(TestModels.model(modelName));
        BertTokenizer ours = BertTokenizer.load(model.tokenizerPath());
        List<String> all = new ArrayList<>(sentences());
        int real = all.size();
        all.addAll(EDGE_CASES);
        int same = 0;
        List<String> failures = new ArrayList<>();
        long tokens = 0;
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder()
            .optTokenizerPath(model.tokenizerPath())
            .optAddSpecialTokens(true)
            .optTruncation(false)
            .optPadding(false)
            .build()) {
            for (String s : all) {
                String diff = compare(ours, hf, s);
                if (diff == null) {
                    same++;
                } else if (failures.size() < 10) {
                    failures.add("[" + s + "]: " + diff);
                }
                tokens += ours.tokenize(s).size();
            }
        }
        System.out.printf("[%s] %d of %d sentences identical (%d from ../shared/data, %d edge cases, %d tokens)%n",
            modelName, same, all.size(), real, EDGE_CASES.size(), tokens);
        failures.forEach(f -> System.out.println("  MISMATCH " + f));
        assertTrue(real >= 2000, "only " + real + " sentences");
        assertEquals(all.size(), same, "mismatches:\n" + String.join("\n", failures));
    }

    /** {@code tokenize(text, max)} must equal the start of the full tokenization for every limit and script. */
    @Test
    void testTokenizeWithLimit_whenLongTexts_thenPrefixOfFullTokenization() throws Exception {
        List<String> all = sentences();
        StringBuilder en = new StringBuilder();
        StringBuilder zh = new StringBuilder();
        StringBuilder mixed = new StringBuilder();
        for (String s : all) {
            boolean cjk = s.codePoints().anyMatch(BertTokenizer::isChineseChar);
            (cjk ? zh : en).append(s).append(cjk ? "" : " ");
            mixed.append(s).append(s.length() % 3 == 0 ? "\u0085" : s.length() % 3 == 1 ? "[SEP]" : "\n");
        }
        for (String model : new String[] {TestModels.MINILM, TestModels.BGE}) {
            BertTokenizer tok = BertTokenizer.load(ModelDescriptor.load(TestModels.model(model)).tokenizerPath());
            for (String text : new String[] {en.toString(), zh.toString(), mixed.toString()}) {
                BertTokenizer.Tokens full = tok.tokenize(text);
                assertTrue(text.length() > 8 * BertTokenizer.MIN_CHUNK_CHARS, "text too short for chunking: " + text.length());
                for (int max : new int[] {0, 1, 509, 4096, 30000, full.size() - 1, full.size(), full.size() + 5}) {
                    BertTokenizer.Tokens t = tok.tokenize(text, max);
                    int want = Math.min(full.size(), max + 1);
                    assertEquals(want, t.size(), model + " max " + max);
                    assertTrue(Arrays.equals(Arrays.copyOf(full.ids(), want), t.ids()), model + " ids, max " + max);
                    assertTrue(Arrays.equals(Arrays.copyOf(full.starts(), want), t.starts()), model + " starts, max " + max);
                    assertTrue(Arrays.equals(Arrays.copyOf(full.ends(), want), t.ends()), model + " ends, max " + max);
                }
            }
        }
    }

    @Test
    void testParity_whenMiniLmTokenizer_thenIdsAndOffsetsIdenticalToHuggingFace() throws Exception {
        parity(TestModels.MINILM);
    }

    @Test
    void testParity_whenBgeTokenizer_thenIdsAndOffsetsIdenticalToHuggingFace() throws Exception {
        parity(TestModels.BGE);
    }
}
