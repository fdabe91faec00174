// Copy the map libraries' built files into corrections/static/vendor, with their licences.
// Run `npm ci && npm run vendor` (or `make vendor`) after changing a version in package.json.
import { cpSync, mkdirSync, rmSync } from "node:fs";

const target = "../corrections/static/vendor";
const copies = [
  ["node_modules/leaflet/dist/leaflet.js", "leaflet/leaflet.js"],
  ["node_modules/leaflet/dist/leaflet.css", "leaflet/leaflet.css"],
  ["node_modules/leaflet/dist/images", "leaflet/images"],
  ["node_modules/leaflet/LICENSE", "leaflet/LICENSE"],
  ["node_modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js", "geoman/leaflet-geoman.min.js"],
  ["node_modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css", "geoman/leaflet-geoman.css"],
  ["node_modules/@geoman-io/leaflet-geoman-free/LICENSE", "geoman/LICENSE"],
];
rmSync(target, { recursive: true, force: true });
for (const [from, to] of copies) {
  const path = `${target}/${to}`;
  mkdirSync(path.substring(0, path.lastIndexOf("/")), { recursive: true });
  cpSync(from, path, { recursive: true });
  console.log(`vendored ${to}`);
}
