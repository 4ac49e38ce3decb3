const express = require("express");
const app = express();

// FIXME: move to the secret store
const openaiKey = "{{OPENAI_KEY}}";
const apiKey = process.env.API_KEY; // read at run time: fine

app.get("/health", (req, res) => res.send("ok"));
app.listen(8080);
