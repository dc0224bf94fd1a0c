package dev.mover.plugin;

import org.elasticsearch.ingest.AbstractProcessor;
import org.elasticsearch.ingest.ConfigurationUtils;
import org.elasticsearch.ingest.IngestDocument;
import org.elasticsearch.ingest.Processor;

import java.util.Base64;
import java.util.Map;

/**
 * {@code mover_encode}: runs the named model over a text field and writes the per-token vectors (codec bytes, base64)
 * to {@code target_field}, for a {@code mover_tokens} field, and optionally the model's pooled sentence vector to
 * {@code pooled_field}, for a {@code dense_vector} field.
 *
 * <pre>
 * { "mover_encode": { "field": "body", "target_field": "body_tokens", "model": "all-minilm-l6-v2",
 *                     "pooled_field": "body_vector", "ignore_missing": false } }
 * </pre>
 */
public final class MoverEncodeProcessor extends AbstractProcessor {
    public static final String TYPE = "mover_encode";

    private final ModelService models;
    private final String field;
    private final String targetField;
    private final String model;
    private final String pooledField;
    private final boolean ignoreMissing;

    MoverEncodeProcessor(String tag, String description, ModelService models, String field, String targetField, String model,
                         String pooledField, boolean ignoreMissing) {
        super(tag, description);
        this.models = models;
        this.field = field;
        this.targetField = targetField;
        this.model = model;
        this.pooledField = pooledField;
        this.ignoreMissing = ignoreMissing;
    }

    @Override
    public IngestDocument execute(IngestDocument document) {
        Object value = document.hasField(field) ? document.getFieldValue(field, Object.class, ignoreMissing) : null;
        if (value == null) {
            if (ignoreMissing) {
                return document;
            }
            throw new IllegalArgumentException("[field] [" + field + "] is null or missing; set [ignore_missing] to skip such documents");
        }
        if (value instanceof String == false) {
            throw new IllegalArgumentException("[field] [" + field + "] must be a string, found [" + value.getClass().getSimpleName() + "]");
        }
        ModelService.Encoded encoded = models.encodeDocument(model, (String) value);
        document.setFieldValue(targetField, Base64.getEncoder().encodeToString(encoded.bytes()));
        if (pooledField != null && encoded.pooled() != null) {
            document.setFieldValue(pooledField, toList(encoded.pooled()));
        }
        return document;
    }

    private static java.util.List<Float> toList(float[] v) {
        java.util.List<Float> out = new java.util.ArrayList<>(v.length);
        for (float x : v) {
            out.add(x);
        }
        return out;
    }

    @Override
    public String getType() {
        return TYPE;
    }

    public static final class Factory implements Processor.Factory {
        private final ModelService models;

        public Factory(ModelService models) {
            this.models = models;
        }

        @Override
        public Processor create(Map<String, Processor.Factory> registry, String tag, String description, Map<String, Object> config) {
            String field = ConfigurationUtils.readStringProperty(TYPE, tag, config, "field");
            String targetField = ConfigurationUtils.readStringProperty(TYPE, tag, config, "target_field");
            String model = ConfigurationUtils.readStringProperty(TYPE, tag, config, "model");
            String pooledField = ConfigurationUtils.readOptionalStringProperty(TYPE, tag, config, "pooled_field");
            boolean ignoreMissing = ConfigurationUtils.readBooleanProperty(TYPE, tag, config, "ignore_missing", false);
            if (models.names().contains(model) == false) {
                throw ConfigurationUtils.newConfigurationException(TYPE, tag, "model",
                    "unknown model [" + model + "]; known models " + models.names());
            }
            if (field.equals(targetField)) {
                throw ConfigurationUtils.newConfigurationException(TYPE, tag, "target_field", "must differ from [field]");
            }
            return new MoverEncodeProcessor(tag, description, models, field, targetField, model, pooledField, ignoreMissing);
        }
    }
}
