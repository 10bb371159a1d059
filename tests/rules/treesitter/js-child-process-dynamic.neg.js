// Convert an uploaded image with ImageMagick.
const { execFile, exec } = require("child_process");

function convert(name, width) {
  execFile("convert", [`uploads/${name}`, "-resize", String(width), `out/${name}`], (err) => {
    if (err) console.error(err);
  });
  exec("convert -version", () => {});
}

module.exports = { convert };
