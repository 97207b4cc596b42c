"""WhyWord web app: `python app.py` serves http://127.0.0.1:7860 (a Hugging Face Space runs it too).

Importing this module builds the page but loads no model: the first request does.
"""

from whyword.ui import build_demo

demo = build_demo()

if __name__ == "__main__":
    demo.launch()
