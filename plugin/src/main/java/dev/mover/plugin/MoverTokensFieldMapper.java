package dev.mover.plugin;

import org.apache.lucene.search.Query;
import org.apache.lucene.util.BytesRef;
import org.elasticsearch.common.bytes.BytesArray;
import org.elasticsearch.common.io.stream.ByteArrayStreamInput;
import org.elasticsearch.index.fielddata.FieldDataContext;
import org.elasticsearch.index.fielddata.IndexFieldData;
import org.elasticsearch.index.fielddata.plain.BytesBinaryIndexFieldData;
import org.elasticsearch.index.mapper.BinaryFieldMapper.CustomBinaryDocValuesField;
import org.elasticsearch.index.mapper.DocumentParserContext;
import org.elasticsearch.index.mapper.FieldMapper;
import org.elasticsearch.index.mapper.MappedFieldType;
import org.elasticsearch.index.mapper.MapperBuilderContext;
import org.elasticsearch.index.mapper.MapperParsingException;
import org.elasticsearch.index.mapper.SourceValueFetcher;
import org.elasticsearch.index.mapper.TextSearchInfo;
import org.elasticsearch.index.mapper.ValueFetcher;
import org.elasticsearch.index.query.SearchExecutionContext;
import org.elasticsearch.search.DocValueFormat;
import org.elasticsearch.search.aggregations.support.CoreValuesSourceType;
import org.elasticsearch.xcontent.XContentParser;

import java.io.IOException;
import java.time.ZoneId;
import java.util.Base64;
import java.util.Map;

/**
 * {@code mover_tokens}: one document's token vectors (with character offsets and the model fingerprint), encoded by
 * {@link dev.mover.scoring.codec.TokenVectorCodec} and stored in binary doc values. The value arrives as a base64 string
 * (what the {@code mover_encode} processor writes); keep it out of {@code _source} with
 * {@code "_source": {"excludes": ["<field>"]}}. Not searchable: the rescorer reads it.
 *
 * <pre>
 * "body_tokens": { "type": "mover_tokens", "model": "all-minilm-l6-v2" }   // "dims" optional, checked
 * </pre>
 */
public final class MoverTokensFieldMapper extends FieldMapper {
    public static final String CONTENT_TYPE = "mover_tokens";

    private static MoverTokensFieldMapper toType(FieldMapper in) {
        return (MoverTokensFieldMapper) in;
    }

    public static final class Builder extends FieldMapper.Builder {
        private final ModelService models;
        private final Parameter<String> model = Parameter.stringParam("model", false, m -> toType(m).fieldType().model, null)
            .acceptsNull();
        private final Parameter<Integer> dims = Parameter.intParam("dims", false, m -> toType(m).fieldType().dims, -1);
        private final Parameter<Map<String, String>> meta = Parameter.metaParam();

        public Builder(String name, ModelService models) {
            super(name);
            this.models = models;
        }

        @Override
        protected Parameter<?>[] getParameters() {
            return new Parameter<?>[] { model, dims, meta };
        }

        @Override
        public MoverTokensFieldMapper build(MapperBuilderContext context) {
            String fullName = context.buildFullName(leafName());
            String modelName = model.getValue();
            if (modelName == null || modelName.isBlank()) {
                throw new MapperParsingException("[model] is required for field [" + fullName + "] of type [" + CONTENT_TYPE
                    + "]; known models " + models.names());
            }
            int modelDims;
            try {
                modelDims = models.dims(modelName);
            } catch (IllegalArgumentException e) {
                throw new MapperParsingException("[model] of field [" + fullName + "]: " + e.getMessage());
            }
            if (dims.getValue() != -1 && dims.getValue() != modelDims) {
                throw new MapperParsingException("[dims] of field [" + fullName + "] is [" + dims.getValue() + "] but model ["
                    + modelName + "] produces [" + modelDims + "]-dimensional vectors");
            }
            return new MoverTokensFieldMapper(leafName(),
                new FieldType(fullName, modelName, modelDims, models, meta.getValue()), builderParams(this, context), this);
        }
    }

    public static TypeParser parser(ModelService models) {
        return new TypeParser((n, c) -> new Builder(n, models));
    }

    /** The field type: which model produced the vectors, their dimension. */
    public static final class FieldType extends MappedFieldType {
        private final String model;
        private final int dims;
        private final ModelService models;

        FieldType(String name, String model, int dims, ModelService models, Map<String, String> meta) {
            super(name, false, false, true, TextSearchInfo.NONE, meta);
            this.model = model;
            this.dims = dims;
            this.models = models;
        }

        public String model() {
            return model;
        }

        public int dims() {
            return dims;
        }

        @Override
        public String typeName() {
            return CONTENT_TYPE;
        }

        @Override
        public ValueFetcher valueFetcher(SearchExecutionContext context, String format) {
            return SourceValueFetcher.identity(name(), context, format);
        }

        @Override
        public DocValueFormat docValueFormat(String format, ZoneId timeZone) {
            return DocValueFormat.BINARY;
        }

        @Override
        public IndexFieldData.Builder fielddataBuilder(FieldDataContext fieldDataContext) {
            failIfNoDocValues();
            return new BytesBinaryIndexFieldData.Builder(name(), CoreValuesSourceType.KEYWORD);
        }

        @Override
        public Object valueForDisplay(Object value) {
            if (value instanceof BytesRef ref) {
                return new BytesArray(ref);
            }
            return value;
        }

        @Override
        public Query termQuery(Object value, SearchExecutionContext context) {
            throw new IllegalArgumentException("[" + name() + "] is a [" + CONTENT_TYPE + "] field and cannot be searched; "
                + "use it in a [mover] rescorer");
        }
    }

    private MoverTokensFieldMapper(String simpleName, FieldType type, BuilderParams params, Builder builder) {
        super(simpleName, type, params);
    }

    @Override
    public FieldType fieldType() {
        return (FieldType) super.fieldType();
    }

    @Override
    protected void parseCreateField(DocumentParserContext context) throws IOException {
        XContentParser parser = context.parser();
        if (parser.currentToken() == XContentParser.Token.VALUE_NULL) {
            return;
        }
        if (parser.currentToken() != XContentParser.Token.VALUE_STRING) {
            throw new IllegalArgumentException("[" + fullPath() + "] expects a base64 string written by the [mover_encode] "
                + "processor, got [" + parser.currentToken() + "]");
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(parser.text());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("[" + fullPath() + "] is not valid base64: " + e.getMessage(), e);
        }
        FieldType ft = fieldType();
        ft.models.validateStored(ft.model, ft.dims, bytes, 0, bytes.length, fullPath());
        if (context.doc().getByKey(ft.name()) != null) {
            throw new IllegalArgumentException("[" + fullPath() + "] takes one value per document");
        }
        context.doc().addWithKey(ft.name(), new CustomBinaryDocValuesField(ft.name(), bytes));
    }

    /**
     * Unwraps one stored value from the doc-values layout shared with {@code binary} fields (vint count, then vint
     * length and bytes per value), so {@code docvalue_fields} works on this field too.
     */
    static BytesRef unwrapDocValue(BytesRef stored, String field) throws IOException {
        ByteArrayStreamInput in = new ByteArrayStreamInput();
        in.reset(stored.bytes, stored.offset, stored.length);
        int count = in.readVInt();
        if (count != 1) {
            throw new IllegalStateException("[" + field + "] corrupt doc value: expected one value, found [" + count + "]");
        }
        int len = in.readVInt();
        int start = in.getPosition();
        if (len < 0 || start + len > stored.offset + stored.length) {
            throw new IllegalStateException("[" + field + "] corrupt doc value: length [" + len + "] past the end");
        }
        return new BytesRef(stored.bytes, start, len);
    }

    @Override
    public FieldMapper.Builder getMergeBuilder() {
        return new Builder(leafName(), fieldType().models).init(this);
    }

    @Override
    protected String contentType() {
        return CONTENT_TYPE;
    }
}
