import Anthropic from "@anthropic-ai/sdk";

// ANTHROPIC_API_KEY=sk-ant-your-key-here
const client = new Anthropic({ apiKey: process.env.ANTHROPIC_API_KEY });
