// Convert an uploaded image with ImageMagick.
const { exec } = require("child_process");

function convert(name, width) {
  exec(`convert uploads/${name} -resize ${width} out/${name}`, (err) => {
    if (err) console.error(err);
  });
}

module.exports = { convert };
