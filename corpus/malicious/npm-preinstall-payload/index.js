console.log("| a | b |");
