package dev.mover.plugin;

import dev.mover.encoder.generate.GenerationException;
import dev.mover.encoder.generate.GenerationRequest;
import dev.mover.encoder.generate.GenerationResult;
import dev.mover.encoder.generate.Generator;
import dev.mover.encoder.generate.OnnxSeq2SeqGenerator;
import dev.mover.encoder.generate.OpenAiCompatibleGenerator;

import org.elasticsearch.common.settings.SecureSetting;
import org.elasticsearch.common.settings.SecureString;
import org.elasticsearch.common.settings.Setting;
import org.elasticsearch.common.settings.Setting.Property;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.core.TimeValue;

import java.io.Closeable;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Summary generators named in node settings (a request can only name one):
 *
 * <pre>
 * mover.generators.local.type: onnx_seq2seq
 * mover.generators.local.path: generators/t5-small        # relative to the config directory
 * mover.generators.llm.type: openai_compatible
 * mover.generators.llm.url: http://127.0.0.1:8000/v1/chat/completions
 * mover.generators.llm.model: qwen2.5-7b-instruct
 * mover.generators.llm.timeout: 30s
 * # API key in the keystore: bin/elasticsearch-keystore add mover.generators.llm.api_key
 * </pre>
 */
final class GeneratorService implements Closeable {
    static final Setting.AffixSetting<String> TYPE = Setting.affixKeySetting("mover.generators.", "type",
        key -> Setting.simpleString(key, v -> {
            if (v.isEmpty() == false && Set.of(OnnxSeq2SeqGenerator.NAME, OpenAiCompatibleGenerator.NAME).contains(v) == false) {
                throw new IllegalArgumentException("[" + key + "] must be one of [onnx_seq2seq, openai_compatible] but was [" + v + "]");
            }
        }, Property.NodeScope));
    static final Setting.AffixSetting<String> PATH = Setting.affixKeySetting("mover.generators.", "path",
        key -> Setting.simpleString(key, Property.NodeScope));
    static final Setting.AffixSetting<String> URL = Setting.affixKeySetting("mover.generators.", "url",
        key -> Setting.simpleString(key, Property.NodeScope));
    static final Setting.AffixSetting<String> MODEL = Setting.affixKeySetting("mover.generators.", "model",
        key -> Setting.simpleString(key, Property.NodeScope));
    static final Setting.AffixSetting<TimeValue> TIMEOUT = Setting.affixKeySetting("mover.generators.", "timeout",
        key -> Setting.timeSetting(key, TimeValue.timeValueSeconds(30), TimeValue.timeValueMillis(100), Property.NodeScope));
    static final Setting.AffixSetting<SecureString> API_KEY = Setting.affixKeySetting("mover.generators.", "api_key",
        key -> SecureSetting.secureString(key, null));

    static List<Setting<?>> settings() {
        return List.of(TYPE, PATH, URL, MODEL, TIMEOUT, API_KEY);
    }

    private record Spec(String type, Path path, URI url, String model, TimeValue timeout, char[] apiKey) {}

    private final Map<String, Spec> specs = new TreeMap<>();
    private final Map<String, Generator> open = new TreeMap<>();

    GeneratorService(Settings settings, Path configPath) {
        for (String name : TYPE.getNamespaces(settings)) {
            String type = TYPE.getConcreteSettingForNamespace(name).get(settings);
            String p = PATH.getConcreteSettingForNamespace(name).get(settings);
            String u = URL.getConcreteSettingForNamespace(name).get(settings);
            String model = MODEL.getConcreteSettingForNamespace(name).get(settings);
            TimeValue timeout = TIMEOUT.getConcreteSettingForNamespace(name).get(settings);
            char[] key = null;
            try (SecureString s = API_KEY.getConcreteSettingForNamespace(name).exists(settings)
                ? API_KEY.getConcreteSettingForNamespace(name).get(settings) : null) {
                if (s != null) {
                    key = s.getChars().clone();
                }
            }
            Path path = null;
            URI url = null;
            if (OnnxSeq2SeqGenerator.NAME.equals(type)) {
                if (p.isEmpty()) {
                    throw new IllegalArgumentException("[mover.generators." + name + ".path] is required for type [onnx_seq2seq]");
                }
                path = configPath == null ? Path.of(p) : configPath.resolve(p).normalize();
            } else {
                if (u.isEmpty() || model.isEmpty()) {
                    throw new IllegalArgumentException("[mover.generators." + name + ".url] and [.model] are required for type ["
                        + OpenAiCompatibleGenerator.NAME + "]");
                }
                url = URI.create(u);
            }
            specs.put(name, new Spec(type, path, url, model, timeout, key));
        }
    }

    Set<String> names() {
        return specs.keySet();
    }

    void check(String name) {
        if (specs.containsKey(name) == false) {
            throw new IllegalArgumentException("[generator] unknown generator [" + name + "]; configured generators " + names());
        }
    }

    private synchronized Generator get(String name) {
        check(name);
        return open.computeIfAbsent(name, n -> {
            Spec s = specs.get(n);
            if (OnnxSeq2SeqGenerator.NAME.equals(s.type())) {
                return OnnxSeq2SeqGenerator.load(s.path());
            }
            Duration t = Duration.ofMillis(s.timeout().millis());
            return new OpenAiCompatibleGenerator(OpenAiCompatibleGenerator.Settings.of(s.url(), s.model()).withTimeouts(t, t), s.apiKey());
        });
    }

    /** Generates from the extracted units; any failure becomes an exception whose message names the generator. */
    GenerationResult generate(String name, List<String> units, String query, int maxNewTokens) {
        Spec s = specs.get(name);
        long budget = s == null ? 30_000 : s.timeout().millis();
        try {
            return get(name).generate(new GenerationRequest(units, query, null, maxNewTokens, budget));
        } catch (GenerationException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new GenerationException(name, e.getMessage(), false, e);
        }
    }

    @Override
    public synchronized void close() {
        for (Generator g : open.values()) {
            try {
                g.close();
            } catch (Exception ignored) {
                // closing on node shutdown: nothing to recover
            }
        }
        open.clear();
    }
}
