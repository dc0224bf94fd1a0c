package dev.mover.plugin;

import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.xcontent.XContentBuilder;

import java.util.List;
import java.util.Map;

import static org.elasticsearch.rest.RestRequest.Method.GET;

/**
 * {@code GET /_mover/stats}: this node's Mover counters (documents and queries encoded, hits rescored, exact solves,
 * solves skipped by pruning, unconverged Sinkhorn runs) and its models.
 */
public final class RestStatsAction extends BaseRestHandler {
    private final ModelService models;

    public RestStatsAction(ModelService models) {
        this.models = models;
    }

    @Override
    public String getName() {
        return "mover_stats_action";
    }

    @Override
    public List<Route> routes() {
        return List.of(new Route(GET, "/_mover/stats"));
    }

    @Override
    protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
        return channel -> {
            XContentBuilder b = channel.newBuilder();
            b.startObject();
            for (Map.Entry<String, Object> e : models.stats().entrySet()) {
                b.field(e.getKey(), e.getValue());
            }
            b.endObject();
            channel.sendResponse(new RestResponse(RestStatus.OK, b));
        };
    }
}
