package dev.mover.encoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A model directory's descriptor, parsed from its {@code model.json}.
 *
 * <p>A model is a directory holding three files: the ONNX graph, the HuggingFace {@code tokenizer.json} and
 * {@code model.json}, for example:
 *
 * <pre>{@code
 * {
 *   "name": "all-minilm-l6-v2",
 *   "onnx": "all-minilm-l6-v2.onnx",
 *   "tokenizer": "all-minilm-l6-v2-tokenizer.json",
 *   "dims": 384,
 *   "max_positions": 512,
 *   "pooling": "mean",            // "mean" (all non-padding positions, [CLS]/[SEP] included) or "cls"
 *   "lowercase": true,            // optional; must agree with the tokenizer.json normalizer when given
 *   "normalize_pooled": true,     // optional, default true: L2-normalise the pooled vector
 *   "output": "last_hidden_state", // optional, default "last_hidden_state"
 *   "hidden_layer": 4             // optional: token vectors from the hidden state after this layer
 * }
 * }</pre>
 *
 * <p>{@code hidden_layer} (optional; absent = the token vectors are {@code output}'s rows, as before): the token
 * vectors are the hidden state after transformer layer {@code hidden_layer} (1 = first layer, the graph's layer
 * count = last, 0 = the embeddings' output), exposed as an extra graph output when the model is opened (found by
 * the graph's structure, see {@code HiddenLayerOutput}); the pooled vector stays the model's own, pooled from
 * {@code output}. A value above the graph's layer count fails at open, naming the value and the range. A layer
 * other than the last changes {@link TextEncoder#fingerprint()}, so vectors of different layers are never
 * compared; the last layer is the same as leaving the field out.
 *
 * <p>{@link #load(Path)} validates everything it can without opening the graph: every problem names the model
 * (or the directory when the name is unknown) and the missing or bad file or field, in brackets.
 */
public final class ModelDescriptor {
    /** The descriptor file name inside a model directory. */
    public static final String DESCRIPTOR_FILE = "model.json";

    /** How the model turns token vectors into one sentence vector. */
    public enum Pooling {
        /** Mean over every non-padding position, [CLS] and [SEP] included (sentence-transformers). */
        MEAN,
        /** The [CLS] position's vector. */
        CLS;

        static Pooling parse(String s) {
            for (Pooling p : values()) {
                if (p.name().toLowerCase(Locale.ROOT).equals(s)) {
                    return p;
                }
            }
            return null;
        }
    }

    private static final Set<String> KNOWN_FIELDS = Set.of(
        "name", "description", "onnx", "tokenizer", "dims", "max_positions", "pooling", "lowercase",
        "normalize_pooled", "output", "hidden_layer");

    private final Path dir;
    private final String name;
    private final String description;
    private final String onnxFile;
    private final String tokenizerFile;
    private final int dims;
    private final int maxPositions;
    private final Pooling pooling;
    private final Boolean lowercase;
    private final boolean normalizePooled;
    private final String output;
    private final Integer hiddenLayer;

    private ModelDescriptor(Path dir, String name, String description, String onnxFile, String tokenizerFile,
                            int dims, int maxPositions, Pooling pooling, Boolean lowercase,
                            boolean normalizePooled, String output, Integer hiddenLayer) {
        this.dir = dir;
        this.name = name;
        this.description = description;
        this.onnxFile = onnxFile;
        this.tokenizerFile = tokenizerFile;
        this.dims = dims;
        this.maxPositions = maxPositions;
        this.pooling = pooling;
        this.lowercase = lowercase;
        this.normalizePooled = normalizePooled;
        this.output = output;
        this.hiddenLayer = hiddenLayer;
    }

    /**
     * Reads and validates {@code dir/model.json} and checks that the ONNX and tokenizer files it names exist.
     *
     * @throws IllegalArgumentException naming the model and the missing or bad file or field
     */
    public static ModelDescriptor load(Path dir) {
        if (dir == null) {
            throw new IllegalArgumentException("[mover] model directory must not be null");
        }
        String label = "[" + dir.getFileName() + "]";
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("[mover] model " + label + " directory [" + dir + "] does not exist");
        }
        Path json = dir.resolve(DESCRIPTOR_FILE);
        if (!Files.isRegularFile(json)) {
            throw new IllegalArgumentException(
                "[mover] model " + label + " is missing its descriptor [" + DESCRIPTOR_FILE + "] in [" + dir + "]");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(
                "[mover] model " + label + " has a malformed [" + DESCRIPTOR_FILE + "]: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("[mover] model " + label + " [" + DESCRIPTOR_FILE + "] must be a JSON object");
        }
        List<String> errors = new ArrayList<>();
        String name = text(root, "name", null, errors);
        if (name != null) {
            label = "[" + name + "]";
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!KNOWN_FIELDS.contains(f)) {
                errors.add("unknown field [" + f + "]");
            }
        }
        String description = text(root, "description", "", errors);
        String onnx = text(root, "onnx", null, errors);
        String tokenizer = text(root, "tokenizer", null, errors);
        int dims = integer(root, "dims", 1, 65536, errors);
        int maxPositions = integer(root, "max_positions", 3, 1 << 20, errors);
        String poolingName = text(root, "pooling", null, errors);
        Pooling pooling = null;
        if (poolingName != null) {
            pooling = Pooling.parse(poolingName);
            if (pooling == null) {
                errors.add("field [pooling] must be one of [mean, cls] but was [" + poolingName + "]");
            }
        }
        Boolean lowercase = bool(root, "lowercase", null, errors);
        Boolean normalize = bool(root, "normalize_pooled", Boolean.TRUE, errors);
        String output = text(root, "output", "last_hidden_state", errors);
        Integer hiddenLayer = root.hasNonNull("hidden_layer") ? integer(root, "hidden_layer", 0, 1024, errors) : null;
        if (name != null && name.isBlank()) {
            errors.add("field [name] must not be blank");
        }
        checkFile(dir, "onnx", onnx, errors);
        checkFile(dir, "tokenizer", tokenizer, errors);
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException(
                "[mover] model " + label + " in [" + dir + "] is invalid: " + String.join("; ", errors));
        }
        return new ModelDescriptor(dir, name, description, onnx, tokenizer, dims, maxPositions, pooling, lowercase,
            normalize, output, hiddenLayer);
    }

    private static void checkFile(Path dir, String field, String file, List<String> errors) {
        if (file == null) {
            return;
        }
        Path p = dir.resolve(file).normalize();
        if (!p.startsWith(dir.normalize())) {
            errors.add("field [" + field + "] must name a file inside the model directory but was [" + file + "]");
        } else if (!Files.isRegularFile(p)) {
            errors.add("missing " + field + " file [" + file + "]");
        } else if (!Files.isReadable(p)) {
            errors.add(field + " file [" + file + "] is not readable");
        }
    }

    private static String text(JsonNode root, String field, String dflt, List<String> errors) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            if (dflt == null) {
                errors.add("missing field [" + field + "]");
            }
            return dflt;
        }
        if (!n.isTextual()) {
            errors.add("field [" + field + "] must be a string but was [" + n + "]");
            return dflt;
        }
        return n.asText();
    }

    private static int integer(JsonNode root, String field, int min, int max, List<String> errors) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            errors.add("missing field [" + field + "]");
            return 0;
        }
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < min || n.asInt() > max) {
            errors.add("field [" + field + "] must be an integer in [" + min + ", " + max + "] but was [" + n + "]");
            return 0;
        }
        return n.asInt();
    }

    private static Boolean bool(JsonNode root, String field, Boolean dflt, List<String> errors) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isBoolean()) {
            errors.add("field [" + field + "] must be true or false but was [" + n + "]");
            return dflt;
        }
        return n.asBoolean();
    }

    /** The model directory. */
    public Path dir() {
        return dir;
    }

    /** The model's name (from {@code model.json}). */
    public String name() {
        return name;
    }

    /** Free text, may be empty. */
    public String description() {
        return description;
    }

    /** The ONNX graph's path. */
    public Path onnxPath() {
        return dir.resolve(onnxFile);
    }

    /** The HuggingFace {@code tokenizer.json} path. */
    public Path tokenizerPath() {
        return dir.resolve(tokenizerFile);
    }

    /** The ONNX file name as written in {@code model.json}. */
    public String onnxFile() {
        return onnxFile;
    }

    /** The tokenizer file name as written in {@code model.json}. */
    public String tokenizerFile() {
        return tokenizerFile;
    }

    /** Width of one token vector. */
    public int dims() {
        return dims;
    }

    /** Number of positions of the model's own position table ([CLS] and [SEP] included), usually 512. */
    public int maxPositions() {
        return maxPositions;
    }

    /** The model's own pooling. */
    public Pooling pooling() {
        return pooling;
    }

    /**
     * The declared lower-casing, or {@code null} when {@code model.json} leaves it to the tokenizer.json. When
     * given it must agree with the tokenizer's normalizer (checked when the model is opened).
     */
    public Boolean lowercase() {
        return lowercase;
    }

    /** Whether the pooled vector is L2-normalised. */
    public boolean normalizePooled() {
        return normalizePooled;
    }

    /** The graph output holding the per-position vectors, {@code [batch, seq, dims]}. */
    public String output() {
        return output;
    }

    /**
     * The transformer layer whose hidden state gives the token vectors (0 = embeddings output), or {@code null} for
     * the rows of {@link #output()}.
     */
    public Integer hiddenLayer() {
        return hiddenLayer;
    }

    @Override
    public String toString() {
        return "ModelDescriptor[" + name + ", dims=" + dims + ", pooling=" + pooling.name().toLowerCase(Locale.ROOT)
            + ", dir=" + dir + "]";
    }
}
