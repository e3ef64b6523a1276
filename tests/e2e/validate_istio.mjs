// Validates Istio manifests (JSON documents, one per line on stdin) against
// the Istio CRD schemas shipped in @kubernetes-models/istio (npm). Prints one
// line per document: "ok <kind> <name>" or "invalid <kind> <name>: <why>".
// Exit status 1 if any is invalid or of an unknown kind.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = process.argv[2]; // directory holding node_modules
const kinds = {
  "extensions.istio.io/v1alpha1/WasmPlugin": "extensions.istio.io/v1alpha1",
  "networking.istio.io/v1alpha3/EnvoyFilter": "networking.istio.io/v1alpha3",
};
const pkg = join(root, "node_modules", "@kubernetes-models", "istio");
let bad = 0;
for (const line of readFileSync(0, "utf8").split("\n").filter((l) => l.trim())) {
  const doc = JSON.parse(line);
  const key = `${doc.apiVersion}/${doc.kind}`;
  const name = doc.metadata?.name ?? "?";
  if (!(key in kinds)) {
    console.log(`unknown ${key} ${name}`);
    bad++;
    continue;
  }
  const mod = await import(pathToFileURL(join(pkg, kinds[key], "index.js")).href);
  const Model = mod[doc.kind];
  try {
    new Model(doc).validate();
    console.log(`ok ${doc.kind} ${name}`);
  } catch (e) {
    console.log(`invalid ${doc.kind} ${name}: ${e.message.replace(/\n/g, " ")}`);
    bad++;
  }
}
process.exit(bad ? 1 : 0);
