package dev.mover.encoder.generate;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mover.encoder.ModelDescriptor;
import dev.mover.encoder.TestModels;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SubwordTokenizer} against HuggingFace's Rust tokenizers (DJL, test scope) on tokenizer.json files written
 * by {@link TokenizerFixtures}: Unigram with Metaspace, byte-level BPE (GPT-2/RoBERTa style), Llama-style character
 * BPE with byte fallback, and the real WordPiece model. Ids (with special tokens) and decoded text must be identical.
 */
class SubwordTokenizerParityTests {
    static final Path DIR = Path.of("target", "generate-fixtures");

    static final List<String> TEXTS = List.of(
        "The court ruled that the contract was valid.",
        "the defendant repaid the loan before the deadline",
        "Spending on public transport rises by ten percent!",
        "  leading and   multiple   spaces  ",
        "Unseen words: zebra, quixotic, 42 apples; ümlaut café.",
        "原告与被告签订借款合同，法院判决被告归还借款。",
        "混合 mixed 文本 text 与 emoji 🙂 and ζ symbols",
        "The quick brown fox jumps over the lazy dog; the dog sleeps.",
        "ＡＢＣ full-width and ﬁ ligature",
        "It's the council's budget, they'll say; we've done it.",
        "",
        "x",
        "special </s> inside<pad>and <unk> text </s>");

    private static List<String> texts() {
        List<String> all = new ArrayList<>(TEXTS);
        all.addAll(TokenizerFixtures.CORPUS);
        return all;
    }

    private static void assertParity(Path file, String expectedType) throws Exception {
        SubwordTokenizer ours = SubwordTokenizer.load(file);
        assertEquals(expectedType, ours.modelType());
        List<String> failures = new ArrayList<>();
        int tokens = 0;
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder().optTokenizerPath(file)
            .optAddSpecialTokens(true).optTruncation(false).optPadding(false).build()) {
            for (String s : texts()) {
                long[] want = hf.encode(s, true, false).getIds();
                int[] got = ours.encode(s, true);
                tokens += got.length;
                long[] gotL = Arrays.stream(got).asLongStream().toArray();
                if (!Arrays.equals(want, gotL)) {
                    failures.add("encode [" + s + "]: want " + Arrays.toString(want) + " got " + Arrays.toString(got));
                    continue;
                }
                String wantText = hf.decode(want, true);
                String gotText = ours.decode(got, 0, got.length);
                if (!wantText.equals(gotText)) {
                    failures.add("decode [" + s + "]: want [" + wantText + "] got [" + gotText + "]");
                }
            }
        }
        System.out.printf("[%s] %s: %d texts, %d tokens, %d mismatches%n", file.getFileName(), expectedType,
            texts().size(), tokens, failures.size());
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertTrue(tokens > 100, "too few tokens: " + tokens);
    }

    @Test
    void testUnigram_whenMetaspace_thenSameIdsAndTextAsHuggingFace() throws Exception {
        LinkedHashMap<String, Double> pieces = TokenizerFixtures.corpusPieces();
        Path file = TokenizerFixtures.write(DIR, "unigram.json", TokenizerFixtures.unigram(pieces, true));
        assertParity(file, "Unigram");
    }

    @Test
    void testUnigram_whenByteFallbackAndPrependFirst_thenSameIdsAndTextAsHuggingFace() throws Exception {
        LinkedHashMap<String, Double> pieces = TokenizerFixtures.corpusPieces();
        for (int b = 0; b < 256; b++) {
            pieces.put(String.format(java.util.Locale.ROOT, "<0x%02X>", b), -20.0);
        }
        ObjectNode root = TokenizerFixtures.unigram(pieces, true);
        ((ObjectNode) root.get("model")).put("byte_fallback", true);
        ((ObjectNode) root.get("pre_tokenizer")).put("prepend_scheme", "first");
        ((ObjectNode) root.get("decoder")).put("prepend_scheme", "first");
        ObjectNode dec = TokenizerFixtures.JSON.createObjectNode().put("type", "Sequence");
        dec.putArray("decoders").add(root.get("decoder")).addObject().put("type", "ByteFallback");
        root.set("decoder", dec);
        Path file = TokenizerFixtures.write(DIR, "unigram-bytes.json", root);
        assertParity(file, "Unigram");
        SubwordTokenizer t = SubwordTokenizer.load(file);
        int[] ids = t.encode("ζ", false);
        assertEquals(List.of("\u2581", "<0xCE>", "<0xB6>"), Arrays.stream(ids).mapToObj(t::token).toList(),
            "an unknown character falls back to its UTF-8 bytes");
    }

    @Test
    void testBpe_whenByteLevel_thenSameIdsAndTextAsHuggingFace() throws Exception {
        Path file = TokenizerFixtures.write(DIR, "bpe-bytelevel.json", TokenizerFixtures.byteLevelBpe(150));
        assertParity(file, "BPE");
    }

    @Test
    void testBpe_whenMetaspaceWithByteFallback_thenSameIdsAndTextAsHuggingFace() throws Exception {
        Path file = TokenizerFixtures.write(DIR, "bpe-metaspace.json", TokenizerFixtures.metaspaceBpe(120, Set.of("q", "借")));
        assertParity(file, "BPE");
        SubwordTokenizer t = SubwordTokenizer.load(file);
        int[] ids = t.encode("quick", false);
        assertEquals("<0x71>", t.token(ids[1]), "q is left out of the vocabulary, so it falls back to its byte");
    }

    @Test
    void testWordPiece_whenRealModel_thenSameIdsAndTextAsHuggingFace() throws Exception {
        ModelDescriptor model = ModelDescriptor.load(TestModels.model(TestModels.MINILM));
        assertParity(model.tokenizerPath(), "WordPiece");
    }

    @Test
    void testLoad_whenUnsupportedModel_thenMessageNamesType() throws Exception {
        ObjectNode root = TokenizerFixtures.JSON.createObjectNode();
        root.putObject("model").put("type", "WordLevel");
        Path file = TokenizerFixtures.write(DIR, "wordlevel.json", root);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SubwordTokenizer.load(file));
        assertEquals("[mover] tokenizer [" + file + "] model type must be one of [WordPiece, BPE, Unigram] but was [WordLevel]",
            e.getMessage());
    }
}
