package dev.mover.encoder;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HiddenLayerTests {
    private static final List<String> EN = List.of("A man with a hard hat is dancing.", "A plane is taking off.",
        "Two dogs run across the wet grass while a child watches from the porch.");
    private static final List<String> ZH = List.of("一个戴着安全帽的男人在跳舞。", "飞机正在起飞。");

    @TempDir
    Path tmp;

    /** A copy of a real model directory (files linked) whose model.json has {@code hidden_layer} set. */
    private Path withLayer(String model, Object layer) throws Exception {
        Path src = TestModels.model(model).toAbsolutePath();
        Path dir = tmp.resolve(model + "-" + layer);
        Files.createDirectories(dir);
        ObjectMapper om = new ObjectMapper();
        ObjectNode json = (ObjectNode) om.readTree(src.resolve(ModelDescriptor.DESCRIPTOR_FILE).toFile());
        for (String f : new String[] {json.get("onnx").asText(), json.get("tokenizer").asText()}) {
            Files.createSymbolicLink(dir.resolve(f), src.resolve(f));
        }
        if (layer instanceof Integer) {
            json.put("hidden_layer", (Integer) layer);
        } else {
            json.put("hidden_layer", String.valueOf(layer));
        }
        om.writeValue(dir.resolve(ModelDescriptor.DESCRIPTOR_FILE).toFile(), json);
        return dir;
    }

    @Test
    void testLayerNormOutputs_whenRealGraphs_thenOnePlusTwoPerLayerEndingAtTheOutput() throws Exception {
        byte[] minilm = Files.readAllBytes(ModelDescriptor.load(TestModels.model(TestModels.MINILM)).onnxPath());
        List<String> norms = HiddenLayerOutput.layerNormOutputs(minilm, TestModels.MINILM);
        assertEquals(13, norms.size(), norms.toString());
        assertEquals(6, HiddenLayerOutput.layerCount(norms, TestModels.MINILM));
        assertEquals("last_hidden_state", norms.get(12));
        byte[] bge = Files.readAllBytes(ModelDescriptor.load(TestModels.model(TestModels.BGE)).onnxPath());
        List<String> bgeNorms = HiddenLayerOutput.layerNormOutputs(bge, TestModels.BGE);
        assertEquals(4, HiddenLayerOutput.layerCount(bgeNorms, TestModels.BGE));
        assertEquals("last_hidden_state", bgeNorms.get(8));
    }

    private static void sameAsDefault(Path layered, Path plainDir, List<String> texts) {
        try (TextEncoder plain = TextEncoder.open(plainDir, EncoderConfig.defaults());
             TextEncoder last = TextEncoder.open(layered, EncoderConfig.defaults())) {
            assertEquals(plain.fingerprint(), last.fingerprint());
            List<EncodedText> a = plain.encodeBatch(texts);
            List<EncodedText> b = last.encodeBatch(texts);
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(a.get(i).vectors(), b.get(i).vectors(), 0f);
                assertArrayEquals(a.get(i).pooled(), b.get(i).pooled(), 0f);
                assertArrayEquals(a.get(i).ids(), b.get(i).ids());
            }
        }
    }

    @Test
    void testOpen_whenLastLayer_thenExactlyTheDefaultVectors() throws Exception {
        sameAsDefault(withLayer(TestModels.MINILM, 6), TestModels.model(TestModels.MINILM), EN);
        sameAsDefault(withLayer(TestModels.BGE, 4), TestModels.model(TestModels.BGE), ZH);
    }

    private static void otherLayer(Path layered, Path plainDir, List<String> texts, int dims) {
        EncoderConfig keep = EncoderConfig.builder().keepSpecialTokens(true).build();
        try (TextEncoder plain = TextEncoder.open(plainDir, keep);
             TextEncoder mid = TextEncoder.open(layered, keep)) {
            assertNotEquals(plain.fingerprint(), mid.fingerprint());
            List<EncodedText> a = plain.encodeBatch(texts);
            List<EncodedText> b = mid.encodeBatch(texts);
            for (int i = 0; i < texts.size(); i++) {
                EncodedText x = a.get(i);
                EncodedText y = b.get(i);
                assertEquals(dims, y.dims());
                assertEquals(x.tokens(), y.tokens());
                assertEquals(x.tokens() * dims, y.vectors().length);
                assertArrayEquals(x.ids(), y.ids());
                assertArrayEquals(x.starts(), y.starts());
                // the pooled vector is still the model's own (from the last layer)
                assertArrayEquals(x.pooled(), y.pooled(), 1e-5f);
                // every row differs from the last layer's row of the same token, by a clear margin
                for (int t = 0; t < x.tokens(); t++) {
                    double dot = 0;
                    double nx = 0;
                    double ny = 0;
                    for (int d = 0; d < dims; d++) {
                        float u = x.vectors()[t * dims + d];
                        float v = y.vectors()[t * dims + d];
                        dot += u * v;
                        nx += u * u;
                        ny += v * v;
                    }
                    double cos = dot / Math.sqrt(nx * ny);
                    assertTrue(cos < 0.99, "token " + t + " of text " + i + " cosine " + cos);
                    assertTrue(Double.isFinite(cos) && ny > 0);
                }
            }
            // single-text and batched calls agree (padding never leaks into the hidden rows)
            EncodedText one = mid.encode(texts.get(0));
            assertArrayEquals(b.get(0).vectors(), one.vectors(), 1e-4f);
        }
    }

    @Test
    void testOpen_whenMiddleLayer_thenRightShapeDifferentRowsSamePooled() throws Exception {
        otherLayer(withLayer(TestModels.MINILM, 3), TestModels.model(TestModels.MINILM), EN, 384);
        otherLayer(withLayer(TestModels.BGE, 2), TestModels.model(TestModels.BGE), ZH, 512);
    }

    @Test
    void testOpen_whenHierarchicalPositionsToo_thenSameRowsBelowTrainedLength() throws Exception {
        Path dir = withLayer(TestModels.MINILM, 3);
        EncoderConfig hcfg = EncoderConfig.builder().longText(EncoderConfig.LongText.HIERARCHICAL).maxTokens(2048).build();
        try (TextEncoder plain = TextEncoder.open(dir, EncoderConfig.defaults());
             TextEncoder hier = TextEncoder.open(dir, hcfg)) {
            assertEquals(2050, ((OnnxTextEncoder) hier).positions());
            for (String t : EN) {
                EncodedText a = plain.encode(t);
                EncodedText b = hier.encode(t);
                assertArrayEquals(a.vectors(), b.vectors(), 1e-5f);
                assertArrayEquals(a.pooled(), b.pooled(), 1e-5f);
            }
        }
    }

    @Test
    void testOpen_whenLayersDiffer_thenFingerprintsDiffer() throws Exception {
        try (TextEncoder l2 = TextEncoder.open(withLayer(TestModels.MINILM, 2), EncoderConfig.defaults());
             TextEncoder l4 = TextEncoder.open(withLayer(TestModels.MINILM, 4), EncoderConfig.defaults())) {
            assertNotEquals(l2.fingerprint(), l4.fingerprint());
            assertEquals(Integer.valueOf(2), l2.model().hiddenLayer());
        }
        assertNull(ModelDescriptor.load(TestModels.model(TestModels.MINILM)).hiddenLayer());
    }

    @Test
    void testOpen_whenLayerAboveLayerCount_thenErrorNamesValueAndRange() throws Exception {
        Path dir = withLayer(TestModels.MINILM, 7);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> TextEncoder.open(dir, EncoderConfig.defaults()));
        assertEquals("[mover] model [all-minilm-l6-v2] [hidden_layer] must be in [0, 6] (the graph has [6] transformer"
            + " layers) but was [7]", e.getMessage());
        Path bge = withLayer(TestModels.BGE, 5);
        e = assertThrows(IllegalArgumentException.class, () -> TextEncoder.open(bge, EncoderConfig.defaults()));
        assertTrue(e.getMessage().contains("[0, 4]") && e.getMessage().contains("[5]"), e.getMessage());
    }

    @Test
    void testLoad_whenLayerNotANonNegativeInteger_thenErrorNamesValue() throws Exception {
        Path neg = withLayer(TestModels.MINILM, -1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelDescriptor.load(neg));
        assertTrue(e.getMessage().contains("field [hidden_layer] must be an integer in [0, 1024] but was [-1]"), e.getMessage());
        Path text = withLayer(TestModels.MINILM, "middle");
        e = assertThrows(IllegalArgumentException.class, () -> ModelDescriptor.load(text));
        assertTrue(e.getMessage().contains("field [hidden_layer] must be an integer in [0, 1024] but was [\"middle\"]"),
            e.getMessage());
    }

    @Test
    void testExpose_whenNoGraph_thenError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> HiddenLayerOutput.expose(new byte[] {0x08, 0x06}, 1, "tiny"));
        assertEquals("[mover] model [tiny] ONNX file has no graph", e.getMessage());
    }
}
