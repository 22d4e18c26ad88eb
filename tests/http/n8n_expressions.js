// Evaluates n8n expression templates ("={{ js }}", or text with {{ js }} parts) the way n8n's
// HTTP Request and IF nodes do, with $json, $env, $now and $('Node name').item.json; reads
// {templates, json, nodes, env, now} on stdin, prints the values as JSON. A whole-field
// expression keeps its type (an IF node's boolean).
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const $now = { toISO: () => input.now };
const $ = (name) => {
  if (!(name in input.nodes)) throw new Error(`no output of node ${name} yet`);
  return { item: { json: input.nodes[name] } };
};
const run = (code) =>
  new Function("$json", "$env", "$now", "$", `return (${code});`)(input.json, input.env, $now, $);
const values = input.templates.map((template) => {
  if (!template.startsWith("=")) return template;
  const whole = template.match(/^=\{\{([\s\S]*)\}\}$/);
  if (whole && !whole[1].includes("}}")) return run(whole[1]) ?? null;
  return template.slice(1).replace(/\{\{([\s\S]*?)\}\}/g, (_, code) => String(run(code)));
});
process.stdout.write(JSON.stringify(values));
