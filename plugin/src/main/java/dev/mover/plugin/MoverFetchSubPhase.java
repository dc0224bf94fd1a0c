package dev.mover.plugin;

import dev.mover.scoring.Alignment;

import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.elasticsearch.common.document.DocumentField;
import org.elasticsearch.common.xcontent.support.XContentMapValues;
import org.elasticsearch.search.fetch.FetchContext;
import org.elasticsearch.search.fetch.FetchSubPhase;
import org.elasticsearch.search.fetch.FetchSubPhaseProcessor;
import org.elasticsearch.search.fetch.StoredFieldsSpec;
import org.elasticsearch.search.rescore.RescoreContext;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adds {@code fields._mover} to each rescored hit when the request's mover rescorer asks for {@code alignments}: the
 * raw distance, the similarity, and the strongest token alignments (query token text, document token offsets and,
 * when {@code text_field} names the hit's source text, the document token text).
 */
final class MoverFetchSubPhase implements FetchSubPhase {
    static final String FIELD = "_mover";

    @Override
    public FetchSubPhaseProcessor getProcessor(FetchContext fetchContext) {
        List<RescoreContext> rescores = fetchContext.rescore();
        if (rescores == null) {
            return null;
        }
        MoverRescorer.Context found = null;
        for (RescoreContext rc : rescores) {
            if (rc instanceof MoverRescorer.Context mc && mc.options.alignments() > 0) {
                found = mc;
            }
        }
        if (found == null) {
            return null;
        }
        MoverRescorer.Context ctx = found;
        boolean needSource = ctx.options.textField() != null;
        return new FetchSubPhaseProcessor() {
            private LeafReaderContext leaf;
            private MoverRescorer.HitRescorer rescorer;

            @Override
            public void setNextReader(LeafReaderContext readerContext) throws IOException {
                leaf = readerContext;
                if (rescorer == null) {
                    rescorer = new MoverRescorer.HitRescorer(ctx, ReaderUtil.getTopLevelContext(readerContext).reader());
                }
            }

            @Override
            public void process(HitContext hitContext) throws IOException {
                if (ctx.isRescored(hitContext.hit().docId()) == false) {
                    return;
                }
                SimilarityScorer.Result r = rescorer.score(leaf, hitContext.docId(), ctx.options.alignments());
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("metric", ctx.metric.toString());
                if (r == null) {
                    out.put("missing", true);
                } else {
                    out.put(ctx.metric == MoverRescorerBuilder.MoverMetric.MAXSIM ? "maxsim" : "distance", r.distance());
                    out.put("similarity", r.score());
                    if (ctx.options.pooledField() != null) {
                        double pc = MoverRescorer.pooledCosine(ctx, leaf, hitContext.docId());
                        out.put("pooled_cosine", Double.isNaN(pc) ? null : pc);
                        out.put("blended_similarity", ctx.blend(r.score(), pc));
                    }
                    String text = null;
                    if (needSource && hitContext.source() != null) {
                        Object v = XContentMapValues.extractValue(ctx.options.textField(), hitContext.source().source());
                        text = v instanceof String s ? s : null;
                    }
                    List<Object> aligns = new ArrayList<>();
                    for (Alignment a : r.alignments()) {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("query_token", ctx.query.token(a.queryToken()));
                        int s = r.docStarts()[a.docToken()];
                        int e = r.docEnds()[a.docToken()];
                        if (text != null && e <= text.length()) {
                            m.put("doc_token", text.substring(s, e));
                        }
                        m.put("doc_start", s);
                        m.put("doc_end", e);
                        m.put("flow", a.flow());
                        m.put("cost", a.cost());
                        aligns.add(m);
                    }
                    out.put("alignments", aligns);
                }
                hitContext.hit().setDocumentField(FIELD, new DocumentField(FIELD, List.of(out)));
            }

            @Override
            public StoredFieldsSpec storedFieldsSpec() {
                return needSource ? StoredFieldsSpec.NEEDS_SOURCE : StoredFieldsSpec.NO_REQUIREMENTS;
            }
        };
    }
}
