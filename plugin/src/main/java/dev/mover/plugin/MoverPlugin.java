package dev.mover.plugin;

import org.elasticsearch.cluster.metadata.IndexNameExpressionResolver;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.common.io.stream.NamedWriteableRegistry;
import org.elasticsearch.common.settings.ClusterSettings;
import org.elasticsearch.common.settings.IndexScopedSettings;
import org.elasticsearch.common.settings.Setting;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.settings.SettingsFilter;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.index.mapper.Mapper;
import org.elasticsearch.ingest.Processor;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.IngestPlugin;
import org.elasticsearch.plugins.MapperPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.SearchPlugin;
import org.elasticsearch.rest.RestController;
import org.elasticsearch.rest.RestHandler;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Mover: per-token vectors at ingest ({@code mover_encode}, {@code mover_tokens}), optimal-transport rescoring
 * ({@code mover} rescorer) and extractive summaries ({@code POST /{index}/_mover/summarize}).
 */
public class MoverPlugin extends Plugin implements MapperPlugin, IngestPlugin, SearchPlugin, ActionPlugin {
    private final ModelService models;

    public MoverPlugin(Settings settings, Path configPath) {
        this.models = ModelService.create(settings, configPath);
    }

    @Override
    public Collection<?> createComponents(PluginServices services) {
        models.setRequestBreaker(services.indicesService().getCircuitBreakerService()
            .getBreaker(org.elasticsearch.common.breaker.CircuitBreaker.REQUEST));
        return List.of();
    }

    @Override
    public List<Setting<?>> getSettings() {
        return MoverSettings.all();
    }

    @Override
    public Map<String, Mapper.TypeParser> getMappers() {
        return Map.of(MoverTokensFieldMapper.CONTENT_TYPE, MoverTokensFieldMapper.parser(models));
    }

    @Override
    public Map<String, Processor.Factory> getProcessors(Processor.Parameters parameters) {
        return Map.of(MoverEncodeProcessor.TYPE, new MoverEncodeProcessor.Factory(models));
    }

    @Override
    public List<RescorerSpec<?>> getRescorers() {
        return List.of(new RescorerSpec<>(MoverRescorerBuilder.NAME, MoverRescorerBuilder::new, MoverRescorerBuilder::fromXContent));
    }

    @Override
    public Collection<RestHandler> getRestHandlers(Settings settings, NamedWriteableRegistry namedWriteableRegistry,
                                                   RestController restController, ClusterSettings clusterSettings,
                                                   IndexScopedSettings indexScopedSettings, SettingsFilter settingsFilter,
                                                   IndexNameExpressionResolver indexNameExpressionResolver,
                                                   Supplier<DiscoveryNodes> nodesInCluster, Predicate<NodeFeature> clusterSupportsFeature) {
        models.bindClusterSettings(clusterSettings);
        return List.of(new RestSummarizeAction(models), new RestStatsAction(models));
    }

    @Override
    public List<org.elasticsearch.search.fetch.FetchSubPhase> getFetchSubPhases(FetchPhaseConstructionContext context) {
        return List.of(new MoverFetchSubPhase());
    }

    @Override
    public void close() throws IOException {
        models.close();
    }
}
